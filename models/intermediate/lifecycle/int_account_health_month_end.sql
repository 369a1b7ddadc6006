-- The health score of every paying account on each month's evaluation day (int_months:
-- the month's last day, the as-of date for the as-of month): what kpi_monthly's at_risk_mrr
-- sums. This model gathers the inputs at month grain — month-end usage
-- (int_usage__month_end_activity), seats, NPS, failed payments — and scores them with
-- health_scored (macros/metrics/health_score.sql), as fct_account_health_daily does at day
-- grain (tests/dbt/generic/scores_match_daily_health.sql holds the two to the same scores),
-- without waiting for the account-day grain. Paying: month-end MRR > 0. Unmatched billing
-- customers get no score, as in the daily mart (no usage, NPS or seats to score); no account
-- gets one before usage data has been delivered.
with

paying as (
    select mrr_monthly.account_id, mrr_monthly.month, mrr_monthly.eval_date, mrr_monthly.mrr
    from {{ ref('int_billing__account_mrr_monthly') }} as mrr_monthly
    inner join {{ ref('int_accounts') }} as accounts
        on accounts.account_id = mrr_monthly.account_id
    where mrr_monthly.mrr > 0
      and not accounts.is_unmatched
      and {{ source_delivered('usage', 'events') }}
),

seats as (
    select * from {{ ref('int_billing__account_seat_intervals') }}
),

activity as (
    select * from {{ ref('int_usage__month_end_activity') }}
),

nps_ranges as (
    {{ nps_score_ranges(ref('stg_crm__nps_responses')) }}
),

failures as (
    select
        paying.account_id,
        paying.month,
        count(*) as failed_payments
    from paying
    inner join {{ ref('int_billing__payments_usd') }} as payments
        on payments.account_id = paying.account_id
       and {{ in_health_window('payments.money_date', 'paying.eval_date') }}
    where payments.money_kind = 'payment' and payments.payment_status = 'failed'
    group by paying.account_id, paying.month
),

inputs as (
    select
        paying.account_id,
        paying.month,
        paying.eval_date,
        paying.mrr,
        coalesce(seats.licensed_seats, 0) as licensed_seats,
        coalesce(activity.active_users, 0) as active_users_30d,
        coalesce(activity.core_features_used, 0) as core_features_30d,
        activity.last_event_date,
        nps_ranges.score as latest_nps_score,
        coalesce(failures.failed_payments, 0) as failed_payments_30d
    from paying
    left join seats
        on seats.account_id = paying.account_id
       and paying.eval_date >= seats.valid_from
       and paying.eval_date < seats.valid_to
    left join activity
        on activity.account_id = paying.account_id
       and activity.month = paying.month
       and activity.eval_date = paying.eval_date
    left join nps_ranges
        on nps_ranges.account_id = paying.account_id
       and paying.eval_date >= nps_ranges.valid_from
       and paying.eval_date < nps_ranges.valid_to
    left join failures
        on failures.account_id = paying.account_id
       and failures.month = paying.month
),

scored as (
    {{ health_scored('inputs', 'eval_date') }}
),

final as (
    select
        account_id,
        month,
        eval_date,
        {{ health_score_columns('scored') }},
        cast(licensed_seats as bigint) as licensed_seats,
        cast(active_users_30d as bigint) as active_users_30d,
        cast(core_features_30d as bigint) as core_features_30d,
        last_event_date,
        cast(latest_nps_score as integer) as latest_nps_score,
        cast(failed_payments_30d as integer) as failed_payments_30d,
        mrr
    from scored
)

select * from final
