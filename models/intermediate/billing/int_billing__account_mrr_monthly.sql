-- Month-end MRR per account: MRR on the last day of each month (the as-of date for the
-- as-of month), from the account's first month with month-end MRR > 0 through the as-of
-- month, zero months after churn included.
with

intervals as (
    select * from {{ ref('int_billing__account_mrr_intervals') }}
),

months as (
    select * from {{ ref('int_months') }}
),

month_end_mrr as (
    select
        intervals.account_id,
        months.month,
        intervals.mrr
    from intervals
    inner join months
        on months.eval_date >= intervals.valid_from
       and months.eval_date < intervals.valid_to
),

first_month as (
    select account_id, min(month) as first_mrr_month
    from month_end_mrr
    where mrr > 0
    group by account_id
),

grid as (
    select
        first_month.account_id,
        first_month.first_mrr_month,
        months.month,
        months.eval_date
    from first_month
    inner join months
        on months.month >= first_month.first_mrr_month
),

final as (
    select
        grid.account_id,
        grid.month,
        grid.eval_date,
        grid.first_mrr_month,
        {{ to_money('coalesce(month_end_mrr.mrr, 0)') }} as mrr
    from grid
    left join month_end_mrr
        on month_end_mrr.account_id = grid.account_id
       and month_end_mrr.month = grid.month
)

select * from final
