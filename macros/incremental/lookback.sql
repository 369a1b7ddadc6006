{#- Look-backs: what an account-day mart's windows need from before the days a run
    rebuilds (docs/incremental-engine.md). On a full build the state holds every day and
    these render the plain window; on an incremental one the state starts at each
    account's read_from, and the days before come from daily usage, which has a row only
    for a day with events. A mart calls these instead of testing is_incremental() itself. -#}

{#- `state` with a `last_event_date` column: the latest day with events on or before each
    day, the days before the state included. `where` filters the state's rows (a filter
    on the account, which the window partitions by). -#}
{% macro with_last_event_date(state, where='true') -%}
    select
        {{ state }}.*,
        coalesce(
            max(case when {{ state }}.events > 0 then {{ state }}.date_day end) over (
                partition by {{ state }}.account_id order by {{ state }}.date_day rows between unbounded preceding and current row
            ){% if is_incremental() %},
            last_event_before_state.last_event_date{% endif %}
        ) as last_event_date
    from {{ state }}
    {%- if is_incremental() %}
    left join (
        select
            usage_daily.account_id,
            max(usage_daily.activity_date) as last_event_date
        from {{ ref('int_usage__account_daily') }} as usage_daily
        inner join {{ ref('int_account_daily_scope') }} as scope
            on scope.account_id = usage_daily.account_id
           and usage_daily.activity_date < scope.read_from
        where usage_daily.events > 0
        group by usage_daily.account_id
    ) as last_event_before_state
        on last_event_before_state.account_id = {{ state }}.account_id
    {%- endif %}
    where {{ where }}
{%- endmacro %}

{#- `state`'s days (account_id, date_day, mrr, is_paying, events), preceded on an
    incremental build by the days with events from each account's events_from (the
    early warning's windows for the day before its first rebuilt day) up to its
    read_from, never before the account's `first_seen_date` in `accounts`. -#}
{% macro account_days_with_earlier_events(state, accounts) -%}
    select account_id, date_day, mrr, is_paying, events from {{ state }}
    {%- if is_incremental() %}
    union all
    select
        scope.account_id,
        usage_daily.activity_date as date_day,
        null as mrr,
        false as is_paying,
        usage_daily.events
    from {{ ref('int_account_daily_scope') }} as scope
    inner join {{ accounts }}
        on {{ accounts }}.account_id = scope.account_id
    inner join {{ ref('int_usage__account_daily') }} as usage_daily
        on usage_daily.account_id = scope.account_id
       and usage_daily.activity_date >= scope.events_from
       and usage_daily.activity_date < scope.read_from
       and usage_daily.activity_date >= {{ accounts }}.first_seen_date
    {%- endif %}
{%- endmacro %}

{#- The window frame "the `from_days_back` .. `to_days_back` days before each day" over
    account_days_with_earlier_events. A full build windows dense account-days: row frames.
    An incremental one also windows look-back days with events only, so its frames are
    ranges of calendar days (ordered by day number), right whether or not every day has a
    row. On dense rows both give the same sums; a row frame is twice as fast there (48 M
    rows: 11 s vs 21 s). -#}
{% macro account_day_frame(date_column, from_days_back, to_days_back) -%}
    {%- set end = 'current row' if to_days_back == 0 else to_days_back ~ ' preceding' -%}
    {%- if is_incremental() -%}
        order by {{ days_between("cast('1970-01-01' as date)", date_column) }} range between {{ from_days_back }} preceding and {{ end }}
    {%- else -%}
        order by {{ date_column }} rows between {{ from_days_back }} preceding and {{ end }}
    {%- endif -%}
{%- endmacro %}
