{#- Usage on each month's evaluation day (int_months: the month's last day, the as-of date
    for the as-of month), one row per account and month with events in the look-back:
    distinct active users and distinct core features used in the health window (the
    day and the health_window_days - 1 days before it) and the last event in the
    recency look-back (health_recency_zero_days: an older event scores 0). The health
    score's usage components on those days, read straight from the events, so that
    kpi_monthly's at-risk MRR (int_account_health_month_end) does not wait for the
    account-day grain; fct_account_health_daily computes the same from the member-day
    rows (a data test holds the two to the same scores).

    Incremental where the account-day grain is (DuckDB): a run recomputes, for every
    account, the months whose evaluation day is new or moved (the as-of month, every
    day; a month the as-of date left) and the months whose look-back holds a day that
    received events from batches loaded since the last run (`usage_batch_watermark`);
    every month when the window settings or this model's SQL changed (`settings_signature`).
    Readers join on month and eval_date, so a month left over from a later as-of date
    (the as-of date moved back) is never read. The events are read from the earliest
    recomputed look-back on, a constant, so the engine skips older history. -#}
{%- set lookback_days = [var('health_window_days'), var('health_recency_zero_days')] | max %}
{%- set signature = model_signature() %}
{{
    config(
        materialized=account_day_materialization(),
        unique_key='month',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}
{#- a table built before its signature column existed is rebuilt as a whole (and gains it) -#}
{%- set rescope = rescopes_signed_table() %}
{%- if rescope %}
    {%- set touched = usage_touched_dates_filter() %}
{%- endif %}

{%- set months_and_scope %}
months as (
    select month, eval_date from {{ ref('int_months') }}
),

{%- if rescope %}

previous as (
    select month, max(eval_date) as eval_date, min(settings_signature) as settings_signature
    from {{ this }}
    group by month
),

touched_dates as (
    select distinct event_date
    from {{ ref('stg_usage__events') }}
    where {{ touched }}
),

recomputed as (
    select months.*
    from months
    left join previous
        on previous.month = months.month
    where (previous.month is null
           and months.eval_date > coalesce((select max(eval_date) from previous), {{ account_day_start_date() }}))
       or previous.eval_date <> months.eval_date
       or previous.settings_signature <> '{{ signature }}'
       or exists (
           select 1
           from touched_dates
           where touched_dates.event_date <= months.eval_date
             and touched_dates.event_date > {{ add_days('months.eval_date', -lookback_days) }}
       )
)

{%- else %}

recomputed as (
    select * from months
)
{%- endif %}
{%- endset %}

{#- the earliest day any recomputed look-back reads (none: nothing to recompute) -#}
{%- set events_from = none %}
{%- if rescope %}
    {%- set events_from = run_query("with " ~ months_and_scope ~ " select min("
                                    ~ add_days('eval_date', 1 - lookback_days) ~ ") from recomputed").columns[0].values()[0] %}
{%- endif %}

with

{{ months_and_scope }},

look_back as (
    {#- each recomputed month's look-back days, and whether the day is in the health window -#}
    select
        recomputed.month,
        recomputed.eval_date,
        dates.date_day,
        {{ in_health_window('dates.date_day', 'recomputed.eval_date') }} as is_in_health_window
    from recomputed
    inner join {{ ref('int_dates') }} as dates
        on dates.date_day <= recomputed.eval_date
       and dates.date_day > {{ add_days('recomputed.eval_date', -lookback_days) }}
),

events as (
    {{ usage_events_from(['account_id', 'user_id', 'feature', 'event_date'], rescope, events_from) }}
),

core_features as (
    select feature from {{ ref('core_features') }}
),

in_look_back as (
    select
        events.account_id,
        look_back.month,
        look_back.eval_date,
        events.event_date,
        case when look_back.is_in_health_window then events.user_id end as window_user_id,
        case when look_back.is_in_health_window then core_features.feature end as window_core_feature
    from events
    inner join look_back
        on look_back.date_day = events.event_date
    left join core_features
        on core_features.feature = events.feature
),

final as (
    select
        account_id,
        month,
        eval_date,
        count(distinct window_user_id) as active_users,
        count(distinct window_core_feature) as core_features_used,
        max(event_date) as last_event_date
    from in_look_back
    group by account_id, month, eval_date
),

batch_watermark as (
    {{ usage_batch_watermark(touched if rescope else none) }}
)

select
    final.*,
    {{ usage_batch_watermark_column(rescope) }},
    '{{ signature }}' as settings_signature
from final
cross join batch_watermark
