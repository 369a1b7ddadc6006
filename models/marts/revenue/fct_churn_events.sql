-- Churn, explained (marts.md v2): one row per churn event of fct_mrr_monthly (an account
-- whose month-end MRR fell to 0), with the subscription whose end caused it — the
-- account's subscription that ended last inside the month (after the previous month's
-- evaluation day, on or before this one's) — its plan, churn type and the customer's
-- feedback. A churn without such an ending (MRR ended with its items, an unmatched
-- customer's subscription missing from the export) is voluntary, plan unknown.
with

churns as (
    select account_id, month, mrr_change as churned_mrr
    from {{ ref('fct_mrr_monthly') }}
    where movement = 'churn'
),

months as (
    select
        month,
        eval_date,
        lag(eval_date) over (order by month) as previous_eval_date
    from {{ ref('int_months') }}
),

accounts as (
    select account_id, segment from {{ ref('int_accounts') }}
),

endings as (
    select * from {{ ref('int_billing__subscription_endings') }}
),

matched as (
    select
        churns.account_id,
        churns.month,
        churns.churned_mrr,
        endings.subscription_id,
        endings.plan_name,
        endings.churn_type,
        endings.cancellation_reason,
        endings.cancellation_feedback,
        row_number() over (
            partition by churns.account_id, churns.month
            order by endings.ended_date desc, endings.subscription_id desc
        ) as ending_rank
    from churns
    inner join months
        on months.month = churns.month
    left join endings
        on endings.account_id = churns.account_id
       and endings.ended_date <= months.eval_date
       and (months.previous_eval_date is null or endings.ended_date > months.previous_eval_date)
),

final as (
    select
        matched.account_id,
        matched.month,
        {{ to_money('matched.churned_mrr') }} as churned_mrr,
        coalesce(accounts.segment, 'unknown') as segment,
        matched.plan_name as plan,
        coalesce(matched.churn_type, 'voluntary') as churn_type,
        matched.cancellation_reason,
        matched.cancellation_feedback,
        matched.subscription_id as ended_subscription_id
    from matched
    left join accounts
        on accounts.account_id = matched.account_id
    where matched.ending_rank = 1
)

select * from final
