-- kpi_monthly sliced (marts.md v2, "KPIs by segment, plan and country"): one row per month,
-- dimension (segment, plan, country) and value. Each account-month of fct_mrr_monthly
-- falls in exactly one value of each dimension — its segment and country (`unknown` for an
-- unmatched customer), its plan that month (int_billing__account_plan_monthly; a churn reads
-- the plan of the month before) — so the additive columns of one dimension's slices sum to
-- kpi_monthly (data test slices_sum_to_total). Ratios are recomputed inside the slice over
-- the slice's accounts: their MRR and active count at the start of the month; NRR and GRR
-- over the accounts in the slice twelve months earlier.
{% set dimensions = ['segment', 'plan', 'country'] %}
with

months as (
    select * from {{ ref('int_months') }}
),

mrr as (
    select * from {{ ref('fct_mrr_monthly') }}
),

accounts as (
    select account_id, segment, country from {{ ref('int_accounts') }}
),

plans as (
    select * from {{ ref('int_billing__account_plan_monthly') }}
),

health as (
    select health.account_id, health.month, health.health_band
    from {{ ref('int_account_health_month_end') }} as health
    inner join months
        on months.month = health.month
       and months.eval_date = health.eval_date
),

account_months as (
    select
        mrr.account_id,
        mrr.month,
        mrr.mrr,
        mrr.previous_mrr,
        mrr.mrr_change,
        mrr.movement,
        mrr.is_active,
        coalesce(accounts.segment, 'unknown') as segment,
        coalesce(accounts.country, 'unknown') as country,
        coalesce(plan_now.plan_name, plan_before.plan_name, 'unknown') as plan,
        case when health.health_band = 'red' then mrr.mrr else 0 end as at_risk_mrr
    from mrr
    left join accounts
        on accounts.account_id = mrr.account_id
    left join plans as plan_now
        on plan_now.account_id = mrr.account_id
       and plan_now.month = mrr.month
    left join plans as plan_before
        on plan_before.account_id = mrr.account_id
       and plan_before.month = {{ add_months('mrr.month', -1) }}
    left join health
        on health.account_id = mrr.account_id
       and health.month = mrr.month
    -- a month after a churn with nothing in it adds nothing to any slice
    where mrr.mrr > 0 or mrr.previous_mrr > 0
),

sliced as (
    {% for dimension in dimensions %}
    select '{{ dimension }}' as dimension, {{ dimension }} as dimension_value, account_months.*
    from account_months
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

by_slice as (
    select
        month,
        dimension,
        dimension_value,
        sum(mrr) as mrr,
        sum(previous_mrr) as previous_mrr,
        sum(case when is_active then 1 else 0 end) as active_customers,
        sum(case when previous_mrr > 0 then 1 else 0 end) as previous_active_customers,
        sum(case when movement = 'new' then mrr_change else 0 end) as new_mrr,
        sum(case when movement = 'expansion' then mrr_change else 0 end) as expansion_mrr,
        sum(case when movement = 'contraction' then mrr_change else 0 end) as contraction_mrr,
        sum(case when movement = 'churn' then mrr_change else 0 end) as churned_mrr,
        sum(case when movement = 'reactivation' then mrr_change else 0 end) as reactivation_mrr,
        sum(mrr_change) as net_new_mrr,
        sum(case when movement = 'new' then 1 else 0 end) as new_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churned_customers,
        sum(case when movement = 'reactivation' then 1 else 0 end) as reactivated_customers,
        sum(case when 12 * mrr >= {{ var('large_customer_arr_usd') }} then 1 else 0 end) as large_customers,
        sum(at_risk_mrr) as at_risk_mrr
    from sliced
    group by month, dimension, dimension_value
),

trailing_year as (
    -- the slice's accounts of twelve months ago, and their MRR now
    select
        current_month.month,
        year_ago.dimension,
        year_ago.dimension_value,
        sum(current_month.mrr) as retained_cohort_mrr,
        sum(case when current_month.mrr < year_ago.mrr then current_month.mrr else year_ago.mrr end)
            as retained_cohort_mrr_capped,
        sum(year_ago.mrr) as year_ago_mrr
    from sliced as year_ago
    inner join mrr as current_month
        on current_month.account_id = year_ago.account_id
       and current_month.month = {{ add_months('year_ago.month', 12) }}
    where year_ago.mrr > 0
    group by current_month.month, year_ago.dimension, year_ago.dimension_value
),

slices as (
    select month, dimension, dimension_value from by_slice
    union
    select month, dimension, dimension_value from trailing_year
),

final as (
    select
        slices.month,
        slices.dimension,
        slices.dimension_value,
        {{ to_money('coalesce(by_slice.mrr, 0)') }} as mrr,
        {{ to_money('12 * coalesce(by_slice.mrr, 0)') }} as arr,
        cast(coalesce(by_slice.active_customers, 0) as integer) as active_customers,
        {{ to_money('coalesce(by_slice.new_mrr, 0)') }} as new_mrr,
        {{ to_money('coalesce(by_slice.expansion_mrr, 0)') }} as expansion_mrr,
        {{ to_money('coalesce(by_slice.contraction_mrr, 0)') }} as contraction_mrr,
        {{ to_money('coalesce(by_slice.churned_mrr, 0)') }} as churned_mrr,
        {{ to_money('coalesce(by_slice.reactivation_mrr, 0)') }} as reactivation_mrr,
        {{ to_money('coalesce(by_slice.net_new_mrr, 0)') }} as net_new_mrr,
        cast(coalesce(by_slice.new_customers, 0) as integer) as new_customers,
        cast(coalesce(by_slice.churned_customers, 0) as integer) as churned_customers,
        cast(coalesce(by_slice.reactivated_customers, 0) as integer) as reactivated_customers,
        cast(coalesce(by_slice.large_customers, 0) as integer) as large_customers,
        case when {{ source_delivered('usage', 'events') }} then {{ to_money('coalesce(by_slice.at_risk_mrr, 0)') }} end
            as at_risk_mrr,
        {{ to_ratio(safe_divide('by_slice.churned_customers', 'by_slice.previous_active_customers')) }} as logo_churn_rate,
        {{ to_ratio(safe_divide('-by_slice.churned_mrr - by_slice.contraction_mrr', 'by_slice.previous_mrr')) }}
            as gross_mrr_churn_rate,
        {{ to_ratio(safe_divide('-by_slice.churned_mrr - by_slice.contraction_mrr - by_slice.expansion_mrr - by_slice.reactivation_mrr',
                                'by_slice.previous_mrr')) }} as net_mrr_churn_rate,
        {{ to_ratio(safe_divide('trailing_year.retained_cohort_mrr', 'trailing_year.year_ago_mrr')) }} as nrr_ttm,
        {{ to_ratio(safe_divide('trailing_year.retained_cohort_mrr_capped', 'trailing_year.year_ago_mrr')) }} as grr_ttm,
        {{ to_ratio(safe_divide('by_slice.new_mrr + by_slice.expansion_mrr + by_slice.reactivation_mrr',
                                '-(by_slice.churned_mrr + by_slice.contraction_mrr)')) }} as quick_ratio,
        {{ to_money(safe_divide('by_slice.mrr', 'by_slice.active_customers')) }} as arpa,
        {{ to_ratio(safe_divide('by_slice.large_customers', 'by_slice.active_customers')) }} as large_customer_share,
        months.is_as_of_month
    from slices
    inner join months
        on months.month = slices.month
    left join by_slice
        on by_slice.month = slices.month
       and by_slice.dimension = slices.dimension
       and by_slice.dimension_value = slices.dimension_value
    left join trailing_year
        on trailing_year.month = slices.month
       and trailing_year.dimension = slices.dimension
       and trailing_year.dimension_value = slices.dimension_value
)

select * from final
