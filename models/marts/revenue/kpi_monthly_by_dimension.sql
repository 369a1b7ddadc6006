-- kpi_monthly sliced (marts.md v2, "KPIs by segment, plan and country"): one row per month,
-- dimension (segment, plan, country) and value. Each account-month of fct_mrr_monthly
-- falls in exactly one value of each dimension — its segment and country (`unknown` for an
-- unmatched customer), its plan that month (fct_mrr_monthly.plan: a churn keeps the plan it
-- churned from) — so the additive columns of one dimension's slices sum to
-- kpi_monthly (data test slices_sum_to_total). Ratios are recomputed inside the slice over
-- the slice's accounts: their MRR and active count at the start of the month; NRR and GRR
-- over the accounts in the slice twelve months earlier.
{% set dimensions = ['segment', 'plan', 'country'] %}
{#- the dimension of a grouping-set row and its value: the one dimension column not null
    (every dimension is coalesced to a value, so null means "not grouped by") -#}
{% set slice_of %}
        case {% for d in dimensions %}when {{ d }} is not null then '{{ d }}' {% endfor %}end as dimension,
        coalesce({{ dimensions | join(', ') }}) as dimension_value
{%- endset %}
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
        mrr.is_large_customer,
        coalesce(accounts.segment, 'unknown') as segment,
        coalesce(accounts.country, 'unknown') as country,
        coalesce(mrr.plan, 'unknown') as plan,
        case when health.health_band = 'red' then mrr.mrr else 0 end as at_risk_mrr
    from mrr
    left join accounts
        on accounts.account_id = mrr.account_id
    left join health
        on health.account_id = mrr.account_id
       and health.month = mrr.month
    -- a month after a churn with nothing in it adds nothing to any slice
    where mrr.mrr > 0 or mrr.previous_mrr > 0
),

by_slice_sets as (
    -- one pass, one grouping set per dimension (the other dimensions' columns are null)
    select
        month,
        {{ dimensions | join(', ') }},
        {{ mrr_movement_sums() }},
        sum(previous_mrr) as previous_mrr,
        sum(case when previous_mrr > 0 then 1 else 0 end) as previous_active_customers,
        sum(at_risk_mrr) as at_risk_mrr
    from account_months
    group by grouping sets ({% for d in dimensions %}(month, {{ d }}){% if not loop.last %}, {% endif %}{% endfor %})
),

by_slice as (
    select
        {{ slice_of }},
        by_slice_sets.*
    from by_slice_sets
),

trailing_year_sets as (
    -- the slice's accounts of twelve months ago, and their MRR now
    select
        current_month.month,
        {% for d in dimensions %}year_ago.{{ d }}{% if not loop.last %}, {% endif %}{% endfor %},
        {{ trailing_year_sums('current_month', 'year_ago') }}
    from account_months as year_ago
    inner join mrr as current_month
        on current_month.account_id = year_ago.account_id
       and current_month.month = {{ add_months('year_ago.month', 12) }}
    where year_ago.mrr > 0
    group by grouping sets ({% for d in dimensions %}(current_month.month, year_ago.{{ d }}){% if not loop.last %}, {% endif %}{% endfor %})
),

trailing_year as (
    select
        {{ slice_of }},
        trailing_year_sets.*
    from trailing_year_sets
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
        {{ mrr_kpi_ratios('by_slice.previous_mrr') }},
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
