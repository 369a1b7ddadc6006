{#- The MRR KPIs of a set of account-months of fct_mrr_monthly, in one place: kpi_monthly
    sums them per month, kpi_monthly_by_dimension per month and slice. -#}

{#- The additive columns, as aggregates over fct_mrr_monthly rows (mrr, mrr_change,
    movement, is_active, is_large_customer). -#}
{% macro mrr_movement_sums() -%}
        sum(mrr) as mrr,
        sum(case when is_active then 1 else 0 end) as active_customers,
        sum(case when movement = 'new' then mrr_change else 0 end) as new_mrr,
        sum(case when movement = 'expansion' then mrr_change else 0 end) as expansion_mrr,
        sum(case when movement = 'contraction' then mrr_change else 0 end) as contraction_mrr,
        sum(case when movement = 'churn' then mrr_change else 0 end) as churned_mrr,
        sum(case when movement = 'reactivation' then mrr_change else 0 end) as reactivation_mrr,
        sum(mrr_change) as net_new_mrr,
        sum(case when movement = 'new' then 1 else 0 end) as new_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churned_customers,
        sum(case when movement = 'reactivation' then 1 else 0 end) as reactivated_customers,
        sum(case when is_large_customer then 1 else 0 end) as large_customers
{%- endmacro %}

{#- NRR and GRR's sums: the accounts of twelve months ago (`year_ago`, MRR > 0) and their
    MRR now (`current_month`), each capped at its year-ago MRR for GRR. -#}
{% macro trailing_year_sums(current_month, year_ago) -%}
        sum({{ current_month }}.mrr) as retained_cohort_mrr,
        sum(case when {{ current_month }}.mrr < {{ year_ago }}.mrr then {{ current_month }}.mrr else {{ year_ago }}.mrr end)
            as retained_cohort_mrr_capped,
        sum({{ year_ago }}.mrr) as year_ago_mrr
{%- endmacro %}

{#- The ratios of the sums above, each null on a zero denominator; `start_mrr` is the
    MRR at the start of the month. -#}
{% macro mrr_kpi_ratios(start_mrr) -%}
        {{ to_ratio(safe_divide('-churned_mrr - contraction_mrr', start_mrr)) }} as gross_mrr_churn_rate,
        {{ to_ratio(safe_divide('-churned_mrr - contraction_mrr - expansion_mrr - reactivation_mrr', start_mrr)) }}
            as net_mrr_churn_rate,
        {{ to_ratio(safe_divide('retained_cohort_mrr', 'year_ago_mrr')) }} as nrr_ttm,
        {{ to_ratio(safe_divide('retained_cohort_mrr_capped', 'year_ago_mrr')) }} as grr_ttm,
        {{ to_ratio(safe_divide('new_mrr + expansion_mrr + reactivation_mrr', '-(churned_mrr + contraction_mrr)')) }}
            as quick_ratio
{%- endmacro %}
