{#- Invariant: kpi_monthly's totals are exactly the sums of fct_mrr_monthly. -#}
{% test kpis_match_mrr_facts(model, facts) %}
    with facts as (
        select
            month,
            sum(mrr) as mrr,
            sum(mrr_change) as net_new_mrr,
            sum(case when is_active then 1 else 0 end) as active_customers,
            sum(case when movement = 'new' then mrr_change else 0 end) as new_mrr,
            sum(case when movement = 'churn' then 1 else 0 end) as churned_customers
        from {{ facts }}
        group by month
    )
    select kpi.month, kpi.mrr, facts.mrr as facts_mrr
    from {{ model }} as kpi
    left join facts on facts.month = kpi.month
    where kpi.mrr <> coalesce(facts.mrr, 0)
       or kpi.net_new_mrr <> coalesce(facts.net_new_mrr, 0)
       or kpi.active_customers <> coalesce(facts.active_customers, 0)
       or kpi.new_mrr <> coalesce(facts.new_mrr, 0)
       or kpi.churned_customers <> coalesce(facts.churned_customers, 0)
       or kpi.arr <> 12 * kpi.mrr
{% endtest %}
