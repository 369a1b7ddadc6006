-- Land cohorts (month of first month-end MRR > 0) followed month by month, for the whole
-- cohort (segment = 'all') and per segment. Month 0 logo retention is 1 by construction.
with

mrr as (
    select * from {{ ref('fct_mrr_monthly') }}
),

accounts as (
    select account_id, segment from {{ ref('int_accounts') }}
),

rows_with_segment as (
    select
        mrr.cohort_month,
        mrr.months_since_land,
        mrr.account_id,
        mrr.mrr,
        mrr.is_active,
        coalesce(accounts.segment, 'unknown') as segment
    from mrr
    left join accounts
        on accounts.account_id = mrr.account_id
),

sliced as (
    select cohort_month, months_since_land, account_id, mrr, is_active, 'all' as segment
    from rows_with_segment
    union all
    select cohort_month, months_since_land, account_id, mrr, is_active, segment
    from rows_with_segment
),

aggregated as (
    select
        cohort_month,
        segment,
        months_since_land,
        count(*) as cohort_size,
        sum(case when is_active then 1 else 0 end) as active_customers,
        sum(mrr) as cohort_mrr
    from sliced
    group by cohort_month, segment, months_since_land
),

starting as (
    select cohort_month, segment, cohort_mrr as cohort_starting_mrr
    from aggregated
    where months_since_land = 0
),

final as (
    select
        aggregated.cohort_month,
        cast(aggregated.months_since_land as integer) as months_since_land,
        aggregated.segment,
        cast(aggregated.cohort_size as integer) as cohort_size,
        cast(aggregated.active_customers as integer) as active_customers,
        {{ to_ratio(safe_divide('aggregated.active_customers', 'aggregated.cohort_size')) }} as logo_retention,
        {{ to_money('starting.cohort_starting_mrr') }} as cohort_starting_mrr,
        {{ to_money('aggregated.cohort_mrr') }} as cohort_mrr,
        {{ to_ratio(safe_divide('aggregated.cohort_mrr', 'starting.cohort_starting_mrr')) }} as revenue_retention
    from aggregated
    inner join starting
        on starting.cohort_month = aggregated.cohort_month
       and starting.segment = aggregated.segment
)

select * from final
