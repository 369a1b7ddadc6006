-- One row per account per month, from its first month with month-end MRR > 0 through
-- the as-of month. Movement compares month-end MRR with the previous month-end;
-- reactivation is decided before expansion, so a returning customer is never "new".
with

monthly as (
    select * from {{ ref('int_billing__account_mrr_monthly') }}
),

accounts as (
    select account_id, is_unmatched from {{ ref('int_accounts') }}
),

with_history as (
    select
        account_id,
        month,
        first_mrr_month,
        mrr,
        coalesce(lag(mrr) over (partition by account_id order by month), 0) as previous_mrr,
        coalesce(max(case when mrr > 0 then 1 else 0 end) over (
            partition by account_id order by month rows between unbounded preceding and 1 preceding
        ), 0) = 1 as had_mrr_before
    from monthly
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
        with_history.first_mrr_month as cohort_month,
        cast({{ months_between('with_history.first_mrr_month', 'with_history.month') }} as integer) as months_since_land,
        coalesce(accounts.is_unmatched, false) as is_unmatched
    from with_history
    left join accounts
        on accounts.account_id = with_history.account_id
)

select * from final
