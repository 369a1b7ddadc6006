-- Early warning: an active paying account whose events in the last 7 days fell >= 50 %
-- below its average weekly events over the 4 weeks before (baseline >= 20 events/week).
-- One row per episode: the first day the condition holds after a day it did not. The
-- comparison is exact in integers: (baseline_28d - 4 x last_7d) x 100 >= 50 x baseline_28d.
-- Incremental on DuckDB (macros/incremental/): episodes from each account's rebuild_from
-- are replaced; account_days_with_earlier_events adds the days with events the windows of
-- the day before need ("was it alerting"), account_day_frame windows them.
{% set recent = var('early_warning_recent_days') %}
{% set weeks = var('early_warning_baseline_weeks') %}
{{ account_day_mart_config('alert_date') }}
{{ require_complete_account_scope() }}
-- depends_on: {{ ref('int_account_daily_scope') }}, {{ ref('int_usage__account_daily') }}

with

state as (
    select account_id, date_day, mrr, is_paying, events from {{ ref('int_account_daily_state') }}
),

accounts as (
    select account_id, csm_id, first_seen_date from {{ ref('int_accounts') }}
),

days as (
    {{ account_days_with_earlier_events('state', 'accounts') }}
),

rolling as (
    select
        days.account_id,
        days.date_day,
        days.mrr,
        days.is_paying,
        sum(days.events) over (
            partition by days.account_id {{ account_day_frame('days.date_day', recent - 1, 0) }}
        ) as last_7d_events,
        sum(days.events) over (
            partition by days.account_id {{ account_day_frame('days.date_day', recent - 1 + 7 * weeks, recent) }}
        ) as baseline_events,
        {{ days_between('accounts.first_seen_date', 'days.date_day') }} + 1 as days_observed
    from days
    inner join accounts
        on accounts.account_id = days.account_id
),

flagged as (
    select
        *,
        case
            when is_paying
             and days_observed >= {{ recent + 7 * weeks }}
             and baseline_events >= {{ var('early_warning_min_baseline_weekly_events') }} * {{ weeks }}
             and (baseline_events - {{ weeks }} * last_7d_events) * 100
                 >= {{ var('early_warning_min_drop_pct') }} * baseline_events
            then 1 else 0
        end as is_alerting
    from rolling
),

episodes as (
    select
        *,
        coalesce(lag(is_alerting) over (partition by account_id order by date_day), 0) as was_alerting
    from flagged
),

health as (
    select account_id, date, health_band from {{ ref('fct_account_health_daily') }}
),

final as (
    select
        episodes.account_id,
        episodes.date_day as alert_date,
        {{ round_to('cast(episodes.baseline_events as double) / ' ~ weeks, 2, 'decimal(18,2)') }} as baseline_weekly_events,
        cast(episodes.last_7d_events as bigint) as last_7d_events,
        {{ round_to('100 * (1 - cast(episodes.last_7d_events as double) * ' ~ weeks ~ ' / episodes.baseline_events)', 2, 'decimal(7,2)') }} as drop_pct,
        {{ to_money('episodes.mrr') }} as mrr_at_risk,
        accounts.csm_id,
        health.health_band
    from episodes
    left join accounts
        on accounts.account_id = episodes.account_id
    left join health
        on health.account_id = episodes.account_id and health.date = episodes.date_day
    {{- only_rebuilt_account_days('episodes', 'date_day') }}
    where episodes.is_alerting = 1 and episodes.was_alerting = 0
)

select * from final
