-- Health score 0-100 per account per day on which it pays or trials (the formula:
-- macros/metrics/health_score.sql):
--   40 x seat adoption   (active users in the last 30 days / licensed seats, capped at 1)
-- + 20 x feature breadth (distinct core features in the last 30 days / core features)
-- + 15 x recency         (1 at 0 days since the last event, linearly 0 at 30 days)
-- + 15 x NPS             (latest score in the last 180 days / 10; 0.5 when none)
-- + 10 x billing         (1; 0.5 with one failed payment in 30 days; 0 with two or more)
-- "Last N days" = the day itself and the N-1 days before it. Weights and windows: dbt vars.
-- Unmatched billing customers get no score: without a CRM account there is no usage,
-- NPS or seat data to score (see DECISIONLOG.md).
-- Incremental on DuckDB (macros/incremental/): rows from each account's rebuild_from are
-- replaced; with_last_event_date reaches back before the state for the last event.
{{ account_day_mart_config('date') }}
{{ require_complete_account_scope() }}
-- depends_on: {{ ref('int_account_daily_scope') }}, {{ ref('int_usage__account_daily') }}

with

state as (
    select * from {{ ref('int_account_daily_state') }}
),

dates as (
    select date_day from {{ ref('int_dates') }} where is_on_or_before_as_of
),

matched_accounts as (
    select account_id from {{ ref('int_accounts') }} where not is_unmatched
),

with_last_event as (
    {{ with_last_event_date('state', where='state.account_id in (select account_id from matched_accounts)') }}
),

nps_ranges as (
    -- the latest response, valid from its day until the next response or its expiry
    {{ nps_score_ranges(ref('stg_crm__nps_responses')) }}
),

failed_payments as (
    select account_id, money_date
    from {{ ref('int_billing__payments_usd') }}
    where money_kind = 'payment' and payment_status = 'failed'
),

daily_failures as (
    select
        failed_payments.account_id,
        dates.date_day,
        count(*) as failed_payments
    from failed_payments
    inner join dates
        on {{ in_health_window('failed_payments.money_date', 'dates.date_day') }}
    {{- only_rebuilt_account_days('dates', 'date_day', account_column='failed_payments.account_id') }}
    group by failed_payments.account_id, dates.date_day
),

inputs as (
    select
        with_last_event.account_id,
        with_last_event.date_day,
        with_last_event.mrr,
        with_last_event.licensed_seats,
        with_last_event.active_users_window as active_users_30d,
        with_last_event.core_features_window as core_features_30d,
        with_last_event.last_event_date,
        daily_nps.score as latest_nps_score,
        coalesce(daily_failures.failed_payments, 0) as failed_payments_30d
    from with_last_event
    left join nps_ranges as daily_nps
        on daily_nps.account_id = with_last_event.account_id
       and with_last_event.date_day >= daily_nps.valid_from
       and with_last_event.date_day < daily_nps.valid_to
    left join daily_failures
        on daily_failures.account_id = with_last_event.account_id and daily_failures.date_day = with_last_event.date_day
    {{- only_rebuilt_account_days('with_last_event', 'date_day') }}
    where (with_last_event.is_paying or with_last_event.is_trialing)
      -- no score without usage data: the mart is empty until usage/events delivers
      and {{ source_delivered('usage', 'events') }}
),

scored as (
    {{ health_scored('inputs', 'date_day') }}
),

final as (
    select
        account_id,
        date_day as date,
        {{ health_score_columns('scored') }},
        cast(licensed_seats as bigint) as licensed_seats,
        cast(active_users_30d as bigint) as active_users_30d,
        cast(core_features_30d as bigint) as core_features_30d,
        last_event_date,
        cast(latest_nps_score as integer) as latest_nps_score,
        cast(failed_payments_30d as integer) as failed_payments_30d,
        {{ to_money('mrr') }} as mrr
    from scored
)

select * from final
