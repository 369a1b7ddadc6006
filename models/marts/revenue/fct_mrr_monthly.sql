-- One row per account per month, from its first month with month-end MRR > 0 through
-- the as-of month. Movement compares month-end MRR with the previous month-end;
-- reactivation is decided before expansion, so a returning customer is never "new".
-- The plan is the one bringing the most of the account's MRR at month end
-- (int_billing__account_plan_monthly); a churn keeps the plan it churned from.
with

monthly as (
    select * from {{ ref('int_billing__account_mrr_monthly') }}
),

accounts as (
    select account_id, is_unmatched from {{ ref('int_accounts') }}
),

plans as (
    select account_id, month, plan_name from {{ ref('int_billing__account_plan_monthly') }}
),

with_history as (
    select
        monthly.account_id,
        monthly.month,
        monthly.first_mrr_month,
        monthly.mrr,
        plans.plan_name,
        coalesce(lag(monthly.mrr) over (partition by monthly.account_id order by monthly.month), 0) as previous_mrr,
        lag(plans.plan_name) over (partition by monthly.account_id order by monthly.month) as previous_plan_name,
        coalesce(max(case when monthly.mrr > 0 then 1 else 0 end) over (
            partition by monthly.account_id order by monthly.month rows between unbounded preceding and 1 preceding
        ), 0) = 1 as had_mrr_before
    from monthly
    left join plans
        on plans.account_id = monthly.account_id
       and plans.month = monthly.month
),

final as (
    select
        with_history.account_id,
        with_history.month,
        with_history.mrr,
        with_history.previous_mrr,
        cast(with_history.mrr - with_history.previous_mrr as {{ money_type() }}) as mrr_change,
        case
            when with_history.previous_mrr = 0 and with_history.mrr > 0 and not with_history.had_mrr_before then 'new'
            when with_history.previous_mrr = 0 and with_history.mrr > 0 then 'reactivation'
            when with_history.previous_mrr > 0 and with_history.mrr = 0 then 'churn'
            when with_history.previous_mrr > 0 and with_history.mrr > with_history.previous_mrr then 'expansion'
            when with_history.previous_mrr > 0 and with_history.mrr < with_history.previous_mrr then 'contraction'
            else 'flat'
        end as movement,
        with_history.mrr > 0 as is_active,
        cast(12 * with_history.mrr as {{ money_type() }}) as arr,
        12 * with_history.mrr >= {{ var('large_customer_arr_usd') }} as is_large_customer,
        with_history.first_mrr_month as cohort_month,
        cast({{ months_between('with_history.first_mrr_month', 'with_history.month') }} as integer) as months_since_land,
        coalesce(accounts.is_unmatched, false) as is_unmatched,
        case
            when with_history.mrr > 0 then with_history.plan_name
            when with_history.previous_mrr > 0 then with_history.previous_plan_name
        end as plan
    from with_history
    left join accounts
        on accounts.account_id = with_history.account_id
)

select * from final
