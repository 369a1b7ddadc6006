-- Funnel by lead source and lead month: leads (attract) -> accounts (capture) -> trials
-- (educate) -> paying (convert), with conversion rates and days from lead to paid.
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
    where {{ to_date('created_at') }} <= {{ as_of_date() }}
),

milestones as (
    select account_id, first_trial_date, land_date
    from {{ ref('int_account_milestones') }}
),

lead_outcomes as (
    select
        leads.lead_id,
        leads.lead_source,
        {{ month_start('leads.created_at') }} as lead_month,
        {{ to_date('leads.created_at') }} as lead_date,
        leads.converted_account_id is not null as is_converted,
        milestones.first_trial_date is not null and milestones.first_trial_date <= {{ as_of_date() }} as has_trial,
        milestones.land_date is not null and milestones.land_date <= {{ as_of_date() }} as is_paying_customer,
        case when milestones.land_date <= {{ as_of_date() }} then milestones.land_date end as land_date
    from leads
    left join milestones on milestones.account_id = leads.converted_account_id
),

final as (
    select
        lead_month as month,
        lead_source,
        cast(count(*) as integer) as leads,
        cast(sum(case when is_converted then 1 else 0 end) as integer) as converted_leads,
        cast(sum(case when has_trial then 1 else 0 end) as integer) as trials,
        cast(sum(case when is_paying_customer then 1 else 0 end) as integer) as paying_customers,
        {{ to_ratio(safe_divide('sum(case when is_converted then 1 else 0 end)', 'count(*)')) }} as lead_to_account_rate,
        {{ to_ratio(safe_divide('sum(case when has_trial and is_paying_customer then 1 else 0 end)', 'sum(case when has_trial then 1 else 0 end)')) }} as trial_to_paid_rate,
        {{ to_ratio(safe_divide('sum(case when is_paying_customer then 1 else 0 end)', 'count(*)')) }} as lead_to_paid_rate,
        {{ round_to('avg(case when is_paying_customer then ' ~ days_between('lead_date', 'land_date') ~ ' end)', 2, 'decimal(10,2)') }} as avg_days_lead_to_paid
    from lead_outcomes
    group by lead_month, lead_source
)

select * from final
