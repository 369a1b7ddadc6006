-- Funnel by lead source and month: leads created in the month (attract) -> accounts
-- (capture) -> trials (educate) -> paying (convert), with conversion rates and days from
-- lead to paid; and CAC by channel (marts.md v2): the channel's marketing and sales cost of
-- the month ÷ the month's new customers (kpi_monthly's `new` movements) whose first
-- converted lead came from that channel.
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

funnel as (
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
),

first_converted_leads as (
    -- each account's first converted lead: the channel that brought it
    select account_id, lead_source
    from (
        select
            converted_account_id as account_id,
            lead_source,
            row_number() over (partition by converted_account_id order by created_at, lead_id) as lead_rank
        from {{ ref('stg_crm__leads') }}
        where converted_account_id is not null
    ) as ranked
    where lead_rank = 1
),

new_customers as (
    select
        mrr.month,
        first_converted_leads.lead_source,
        count(*) as new_customers
    from {{ ref('fct_mrr_monthly') }} as mrr
    inner join first_converted_leads
        on first_converted_leads.account_id = mrr.account_id
    where mrr.movement = 'new'
    group by mrr.month, first_converted_leads.lead_source
),

channel_spend as (
    select month, channel as lead_source, sum(amount_usd) as spend
    from {{ ref('int_finance__spend_usd') }}
    where month <= {{ as_of_month() }}
    group by month, channel
),

keys as (
    select month, lead_source from funnel
    union
    select month, lead_source from new_customers
    union
    select month, lead_source from channel_spend
),

final as (
    select
        keys.month,
        keys.lead_source,
        coalesce(funnel.leads, 0) as leads,
        coalesce(funnel.converted_leads, 0) as converted_leads,
        coalesce(funnel.trials, 0) as trials,
        coalesce(funnel.paying_customers, 0) as paying_customers,
        funnel.lead_to_account_rate,
        funnel.trial_to_paid_rate,
        funnel.lead_to_paid_rate,
        funnel.avg_days_lead_to_paid,
        cast(coalesce(new_customers.new_customers, 0) as integer) as new_customers,
        case when {{ source_delivered('finance', 'marketing_spend') }} then {{ to_money('coalesce(channel_spend.spend, 0)') }} end
            as spend,
        case when {{ source_delivered('finance', 'marketing_spend') }}
            then {{ to_money(safe_divide('coalesce(channel_spend.spend, 0)', 'new_customers.new_customers')) }} end as cac
    from keys
    left join funnel
        on funnel.month = keys.month and funnel.lead_source = keys.lead_source
    left join new_customers
        on new_customers.month = keys.month and new_customers.lead_source = keys.lead_source
    left join channel_spend
        on channel_spend.month = keys.month and channel_spend.lead_source = keys.lead_source
)

select * from final
