-- The health score, back-tested (marts.md v2): per month and band, the accounts paying on
-- the month's first day with the band they had that day, how many of them churned within
-- 90 days, the rate, and its lift over green. "Within 90 days" at the grain churn is
-- measured on: a `churn` movement of fct_mrr_monthly in the month or one of the two after
-- it (month-end MRR fell to 0 by the end of the third month, 89-92 days after the first
-- day). A paying account without a score that day (an unmatched billing customer, or any
-- account before usage has been delivered) is counted in the band `unscored`.
-- outcome_is_final: the third month is complete, so the count can no longer change.
{% set horizon = var('health_backtest_horizon_months') %}
with

months as (
    select month from {{ ref('int_months') }}
),

paying_on_first_day as (
    select
        months.month,
        intervals.account_id,
        intervals.mrr
    from months
    inner join {{ ref('int_billing__account_mrr_intervals') }} as intervals
        on months.month >= intervals.valid_from
       and months.month < intervals.valid_to
    where intervals.mrr > 0
),

scores_on_first_day as (
    select health.account_id, health.date as month, health.health_band
    from {{ ref('fct_account_health_daily') }} as health
    inner join months
        on months.month = health.date
),

churns as (
    select account_id, month as churn_month
    from {{ ref('fct_mrr_monthly') }}
    where movement = 'churn'
),

outcomes as (
    select
        paying.month,
        paying.account_id,
        paying.mrr,
        coalesce(scores.health_band, 'unscored') as health_band,
        max(case when churns.account_id is null then 0 else 1 end) as churned
    from paying_on_first_day as paying
    left join scores_on_first_day as scores
        on scores.account_id = paying.account_id
       and scores.month = paying.month
    left join churns
        on churns.account_id = paying.account_id
       and churns.churn_month >= paying.month
       and churns.churn_month < {{ add_months('paying.month', horizon) }}
    group by paying.month, paying.account_id, paying.mrr, coalesce(scores.health_band, 'unscored')
),

by_band as (
    select
        month,
        health_band,
        count(*) as accounts,
        sum(churned) as churned_within_90d,
        sum(mrr) as mrr
    from outcomes
    group by month, health_band
),

with_green as (
    select
        by_band.*,
        {{ safe_divide('cast(by_band.churned_within_90d as double)', 'by_band.accounts') }} as churn_rate_raw,
        max(case when health_band = 'green' then {{ safe_divide('cast(churned_within_90d as double)', 'accounts') }} end)
            over (partition by month) as green_churn_rate_raw
    from by_band
),

final as (
    select
        month,
        health_band,
        cast(accounts as integer) as accounts,
        cast(churned_within_90d as integer) as churned_within_90d,
        {{ to_ratio('churn_rate_raw') }} as churn_rate_90d,
        {{ to_ratio(safe_divide('churn_rate_raw', 'green_churn_rate_raw')) }} as lift_over_green,
        {{ to_money('mrr') }} as mrr,
        {{ month_end(add_months('month', horizon - 1)) }} <= {{ as_of_date() }} as outcome_is_final
    from with_green
)

select * from final
