-- The plan an account is on in a month, for KPIs by plan: the plan (stg_billing__plans
-- plan_name) that brings the most of the account's MRR on the month's evaluation day (ties:
-- the first plan name), one row per account and month with MRR on that day. A month whose
-- MRR fell to 0 (a churn) reads the plan of the month before, in kpi_monthly_by_dimension.
with

pieces as (
    select * from {{ ref('int_billing__mrr_pieces') }}
),

items as (
    select subscription_item_id, plan_id from {{ ref('int_billing__subscription_items_priced') }}
),

plans as (
    select plan_id, plan_name from {{ ref('stg_billing__plans') }}
),

months as (
    select month, eval_date from {{ ref('int_months') }}
),

mrr_by_plan as (
    select
        pieces.account_id,
        months.month,
        coalesce(plans.plan_name, 'unknown') as plan_name,
        sum(pieces.item_mrr_usd) as plan_mrr
    from pieces
    inner join months
        on months.eval_date >= pieces.valid_from
       and months.eval_date < pieces.valid_to
    left join items
        on items.subscription_item_id = pieces.subscription_item_id
    left join plans
        on plans.plan_id = items.plan_id
    group by pieces.account_id, months.month, coalesce(plans.plan_name, 'unknown')
),

ranked as (
    select
        *,
        row_number() over (partition by account_id, month order by plan_mrr desc, plan_name) as plan_rank
    from mrr_by_plan
),

final as (
    select account_id, month, plan_name
    from ranked
    where plan_rank = 1
)

select * from final
