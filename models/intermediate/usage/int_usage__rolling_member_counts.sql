-- Distinct active users and distinct core features used "in the last N days" as step
-- functions per account: an activity on day a covers days a .. a+N-1; a member's
-- overlapping coverages merge into spans; counting the spans over each day (a sweep)
-- gives the rolling distinct count without scanning N days per account-day.
-- Only the activity that reaches the days being rebuilt is read (from rebuild_from - N + 1,
-- int_account_daily_scope), so the counts are exact from each account's rebuild_from on
-- (the look-back days before it need no counts: no rule reads them there).
{% set window_days = var('health_window_days') %}
with

{#- the earliest day read for accounts rebuilt only in part, as a constant: their branch
    then skips the older history (zone maps) instead of joining every activity ever -#}
{#- accounts rebuilt on the as-of day alone (most of a daily run) need one count per
    member type over the last N days, not the spans: a plain distinct count -#}
{%- set partial_from = none %}
{%- set all_full = false %}
{%- set one_day = false %}
{%- if execute and model.resource_type == 'model' %}
    {%- set split = run_query(
            "select count(case when rebuild_from = " ~ as_of_date() ~ " then 1 end), "
            ~ "min(case when not is_full_rebuild and rebuild_from <> " ~ as_of_date() ~ " then rebuild_from end) "
            ~ "from " ~ ref('int_account_daily_scope') ~ " where is_current").rows[0] %}
    {%- set one_day = split[0] > 0 %}
    {%- set partial_from = split[1] %}
    {%- set all_full = partial_from is none and not one_day %}
{%- endif %}
scope as (
    {#- an account gone since the last build has no days to count -#}
    select account_id, rebuild_from, is_full_rebuild from {{ ref('int_account_daily_scope') }}
    where is_current
),

members as (
    {%- if all_full %}
    -- every account is rebuilt from its first day: all activity, no join
    select members.*
    from {{ ref('int_usage__active_members_daily') }} as members
    where members.activity_date <= {{ as_of_date() }}
    {%- else %}
    select members.*
    from {{ ref('int_usage__active_members_daily') }} as members
    inner join scope
        on scope.account_id = members.account_id
       and members.activity_date >= {{ add_days('scope.rebuild_from', 1 - window_days) }}
    where members.activity_date <= {{ as_of_date() }}
    {%- if partial_from is not none or one_day %}
      and scope.is_full_rebuild
    {%- endif %}
    {%- if partial_from is not none %}

    union all

    select members.*
    from {{ ref('int_usage__active_members_daily') }} as members
    inner join scope
        on scope.account_id = members.account_id
       and members.activity_date >= {{ add_days('scope.rebuild_from', 1 - window_days) }}
    where members.activity_date <= {{ as_of_date() }}
      and members.activity_date >= {{ add_days("cast('" ~ partial_from ~ "' as date)", 1 - window_days) }}
      and not scope.is_full_rebuild
      and scope.rebuild_from <> {{ as_of_date() }}
    {%- endif %}
    {%- endif %}
),

ordered as (
    select
        account_id,
        member_type,
        member_id,
        activity_date,
        lag(activity_date) over (
            partition by account_id, member_type, member_id order by activity_date
        ) as previous_activity_date
    from members
),

flagged as (
    select
        *,
        case
            when previous_activity_date is null then 1
            when {{ days_between('previous_activity_date', 'activity_date') }} >= {{ window_days }} then 1
            else 0
        end as starts_span
    from ordered
),

numbered as (
    select
        *,
        sum(starts_span) over (
            partition by account_id, member_type, member_id
            order by activity_date
            rows between unbounded preceding and current row
        ) as span_number
    from flagged
),

spans as (
    select
        account_id,
        member_type,
        member_id,
        min(activity_date) as valid_from,
        {{ add_days('max(activity_date)', window_days) }} as valid_to,
        1 as member_count
    from numbered
    group by account_id, member_type, member_id, span_number
),

swept as (
    {{ interval_sweep('spans', 'account_id, member_type', 'valid_from', 'valid_to', 'member_count') }}
),

counts as (
    select
        account_id,
        member_type,
        valid_from,
        valid_to,
        cast(value as bigint) as distinct_members
    from swept
    {%- if one_day %}

    union all

    select
        members.account_id,
        members.member_type,
        {{ as_of_date() }} as valid_from,
        {{ add_days(as_of_date(), 1) }} as valid_to,
        count(distinct members.member_id) as distinct_members
    from {{ ref('int_usage__active_members_daily') }} as members
    inner join scope
        on scope.account_id = members.account_id
       and scope.rebuild_from = {{ as_of_date() }}
    where members.activity_date <= {{ as_of_date() }}
      and members.activity_date >= {{ add_days(as_of_date(), 1 - window_days) }}
    group by members.account_id, members.member_type
    {%- endif %}
)

select * from counts
