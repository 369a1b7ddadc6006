{#- Invariant of fct_mrr_monthly: for every month, the sum of all accounts' mrr_change
    equals total MRR(m) - total MRR(m-1), exactly (decimals, no tolerance). -#}
{% test mrr_changes_reconcile(model) %}
    with totals as (
        select month, sum(mrr) as total_mrr, sum(mrr_change) as total_change
        from {{ model }}
        group by month
    ),
    compared as (
        select
            month,
            total_mrr,
            total_change,
            total_mrr - coalesce(lag(total_mrr) over (order by month), 0) as expected_change
        from totals
    )
    select * from compared
    where total_change <> expected_change
{% endtest %}
