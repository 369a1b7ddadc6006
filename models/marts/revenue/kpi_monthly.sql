-- The leadership table: one row per month up to the as-of month. Definitions in
-- docs/contract/marts.md; a ratio with a zero denominator is null.
{% set gm = var('gross_margin') %}
with

months as (
    select * from {{ ref('int_months') }}
),

mrr as (
    select * from {{ ref('fct_mrr_monthly') }}
),

by_month as (
    select
        month,
        {{ mrr_movement_sums() }},
        sum(case when is_large_customer then 12 * mrr else 0 end) as large_customer_arr
    from mrr
    group by month
),

trailing_year as (
    select
        current_month.month,
        {{ trailing_year_sums('current_month', 'year_ago') }}
    from mrr as current_month
    inner join mrr as year_ago
        on year_ago.account_id = current_month.account_id
       and year_ago.month = {{ add_months('current_month.month', -12) }}
    where year_ago.mrr > 0
    group by current_month.month
),

spend as (
    select
        month,
        sum(case when cost_type = 'sales' then 0 else amount_usd end) as marketing_spend,
        sum(case when cost_type = 'sales' then amount_usd else 0 end) as sales_spend
    from {{ ref('int_finance__spend_usd') }}
    group by month
),

trials as (
    select
        {{ month_start('trial_end_date') }} as month,
        count(*) as trials_ended,
        sum(case when is_converted then 1 else 0 end) as trials_converted
    from {{ ref('int_billing__trials') }}
    where trial_end_date <= {{ as_of_date() }}
    group by {{ month_start('trial_end_date') }}
),

activation as (
    select
        {{ month_start('land.land_date') }} as month,
        count(*) as landed_accounts,
        sum(case when activation.is_activated then 1 else 0 end) as activated_accounts
    from (
        select account_id, land_date
        from {{ ref('int_account_milestones') }}
        where land_date is not null
    ) as land
    left join {{ ref('int_usage__activation') }} as activation
        on activation.account_id = land.account_id
    where land.land_date <= {{ as_of_date() }}
    group by {{ month_start('land.land_date') }}
),

money as (
    select
        {{ month_start('money_date') }} as month,
        sum(case when money_kind = 'payment' and payment_status = 'succeeded' then amount_usd else 0 end) as collected,
        sum(case when money_kind = 'refund' then amount_usd else 0 end) as refunded
    from {{ ref('int_billing__payments_usd') }}
    group by {{ month_start('money_date') }}
),

churn_types as (
    select
        month,
        sum(case when churn_type = 'voluntary' then churned_mrr else 0 end) as voluntary_churned_mrr,
        sum(case when churn_type = 'involuntary' then churned_mrr else 0 end) as involuntary_churned_mrr
    from {{ ref('fct_churn_events') }}
    group by month
),

nps_respondents as (
    -- each respondent's latest response of the month (a contact who answered twice counts
    -- once; a response without a contact is its own respondent)
    select month, score
    from (
        select
            {{ month_start(to_date('responded_at')) }} as month,
            score,
            row_number() over (
                partition by {{ month_start(to_date('responded_at')) }},
                    coalesce(contact_id, {{ dbt.concat(["'response:'", 'response_id']) }})
                order by responded_at desc, response_id desc
            ) as rank_in_month
        from {{ ref('stg_crm__nps_responses') }}
        where {{ to_date('responded_at') }} <= {{ as_of_date() }}
    ) as ranked
    where rank_in_month = 1
),

nps as (
    select
        month,
        count(*) as nps_responses,
        sum(case when score >= 9 then 1 else 0 end) as nps_promoters,
        sum(case when score <= 6 then 1 else 0 end) as nps_detractors
    from nps_respondents
    group by month
),

at_risk as (
    -- the health score on each month's evaluation day, at month grain (the same scores as
    -- fct_account_health_daily on those days, without the account-day grain)
    select
        months.month,
        sum(case when health.health_band = 'red' then health.mrr else 0 end) as at_risk_mrr,
        sum(health.mrr) as scored_mrr
    from {{ ref('int_account_health_month_end') }} as health
    inner join months
        on months.month = health.month
       and months.eval_date = health.eval_date
    group by months.month
),

assembled as (
    select
        months.month,
        months.eval_date,
        months.is_as_of_month,
        coalesce(by_month.mrr, 0) as mrr,
        coalesce(by_month.active_customers, 0) as active_customers,
        coalesce(by_month.new_mrr, 0) as new_mrr,
        coalesce(by_month.expansion_mrr, 0) as expansion_mrr,
        coalesce(by_month.contraction_mrr, 0) as contraction_mrr,
        coalesce(by_month.churned_mrr, 0) as churned_mrr,
        coalesce(churn_types.voluntary_churned_mrr, 0) as voluntary_churned_mrr,
        coalesce(churn_types.involuntary_churned_mrr, 0) as involuntary_churned_mrr,
        coalesce(by_month.reactivation_mrr, 0) as reactivation_mrr,
        coalesce(by_month.net_new_mrr, 0) as net_new_mrr,
        coalesce(by_month.new_customers, 0) as new_customers,
        coalesce(by_month.churned_customers, 0) as churned_customers,
        coalesce(by_month.reactivated_customers, 0) as reactivated_customers,
        coalesce(by_month.large_customers, 0) as large_customers,
        coalesce(by_month.large_customer_arr, 0) as large_customer_arr,
        trailing_year.retained_cohort_mrr,
        trailing_year.retained_cohort_mrr_capped,
        trailing_year.year_ago_mrr,
        case when {{ source_delivered('finance', 'marketing_spend') }} then coalesce(spend.marketing_spend, 0) end
            as marketing_spend,
        case when {{ source_delivered('finance', 'marketing_spend') }} then coalesce(spend.sales_spend, 0) end
            as sales_spend,
        coalesce(trials.trials_ended, 0) as trials_ended,
        coalesce(trials.trials_converted, 0) as trials_converted,
        coalesce(activation.landed_accounts, 0) as landed_accounts,
        case when {{ source_delivered('usage', 'events') }} then coalesce(activation.activated_accounts, 0) end
            as activated_accounts,
        coalesce(money.collected, 0) as collected,
        coalesce(money.refunded, 0) as refunded,
        case when {{ source_delivered('usage', 'events') }} then coalesce(at_risk.at_risk_mrr, 0) end as at_risk_mrr,
        coalesce(by_month.mrr, 0) - coalesce(at_risk.scored_mrr, 0) as unscored_mrr,
        coalesce(nps.nps_responses, 0) as nps_responses,
        nps.nps_promoters,
        nps.nps_detractors
    from months
    left join by_month on by_month.month = months.month
    left join trailing_year on trailing_year.month = months.month
    left join spend on spend.month = months.month
    left join trials on trials.month = months.month
    left join activation on activation.month = months.month
    left join money on money.month = months.month
    left join at_risk on at_risk.month = months.month
    left join nps on nps.month = months.month
    left join churn_types on churn_types.month = months.month
),

with_previous as (
    select
        *,
        lag(active_customers) over (order by month) as previous_active_customers,
        lag(mrr) over (order by month) as previous_mrr
    from assembled
),

rates as (
    select
        *,
        {{ safe_divide('churned_customers', 'previous_active_customers') }} as logo_churn_rate_raw,
        {{ safe_divide('mrr', 'active_customers') }} as arpa_raw,
        -- fully loaded: marketing and sales cost of the month
        {{ safe_divide('marketing_spend + sales_spend', 'new_customers') }} as cac_raw,
        {{ safe_divide('marketing_spend', 'new_customers') }} as cac_marketing_raw
    from with_previous
),

with_trailing_churn as (
    select
        *,
        avg(logo_churn_rate_raw) over (order by month rows between 11 preceding and current row)
            as trailing_logo_churn_rate,
        sum(churned_customers) over (order by month rows between 11 preceding and current row)
            as trailing_churned_customers,
        -- months since the company's first month with MRR (null before it)
        {{ months_between('min(case when mrr > 0 then month end) over (order by month rows between unbounded preceding and current row)', 'month') }}
            as company_age_months
    from rates
),

final as (
    select
        month,
        {{ to_money('mrr') }} as mrr,
        {{ to_money('12 * mrr') }} as arr,
        cast(active_customers as integer) as active_customers,
        {{ to_money('new_mrr') }} as new_mrr,
        {{ to_money('expansion_mrr') }} as expansion_mrr,
        {{ to_money('contraction_mrr') }} as contraction_mrr,
        {{ to_money('churned_mrr') }} as churned_mrr,
        {{ to_money('voluntary_churned_mrr') }} as voluntary_churned_mrr,
        {{ to_money('involuntary_churned_mrr') }} as involuntary_churned_mrr,
        {{ to_money('reactivation_mrr') }} as reactivation_mrr,
        {{ to_money('net_new_mrr') }} as net_new_mrr,
        cast(new_customers as integer) as new_customers,
        cast(churned_customers as integer) as churned_customers,
        cast(reactivated_customers as integer) as reactivated_customers,
        {{ to_ratio('logo_churn_rate_raw') }} as logo_churn_rate,
        {{ mrr_kpi_ratios('previous_mrr') }},
        {{ to_money('arpa_raw') }} as arpa,
        -- null while the trailing churn rate rests on too few churns, or on less than a year
        case
            when trailing_churned_customers >= {{ var('ltv_min_trailing_churns') }}
             and company_age_months >= 12
            then {{ to_money(safe_divide('arpa_raw * ' ~ gm, 'trailing_logo_churn_rate')) }}
        end as ltv,
        {{ to_money('cac_raw') }} as cac,
        {{ to_money('cac_marketing_raw') }} as cac_marketing,
        {{ to_ratio(safe_divide('cac_raw', safe_divide('new_mrr', 'new_customers') ~ ' * ' ~ gm)) }} as cac_payback_months,
        {{ to_ratio(safe_divide('trials_converted', 'trials_ended')) }} as trial_conversion_rate,
        {{ to_ratio(safe_divide('activated_accounts', 'landed_accounts')) }} as activation_rate,
        {{ add_days(month_end('month'), var('activation_window_days')) }} <= {{ as_of_date() }} as activation_rate_is_final,
        cast(large_customers as integer) as large_customers,
        {{ to_ratio(safe_divide('large_customers', 'active_customers')) }} as large_customer_share,
        {{ to_ratio(safe_divide('large_customer_arr', '12 * mrr')) }} as large_customer_arr_share,
        {{ to_ratio(safe_divide('refunded', 'collected')) }} as refund_rate,
        {{ to_money('at_risk_mrr') }} as at_risk_mrr,
        {{ to_money('unscored_mrr') }} as unscored_mrr,
        {{ round_to(safe_divide('100.0 * (nps_promoters - nps_detractors)', 'nps_responses'), 2, 'decimal(7,2)') }} as nps,
        cast(nps_responses as integer) as nps_responses,
        {{ to_money('marketing_spend') }} as marketing_spend,
        {{ to_money('sales_spend') }} as sales_spend,
        cast(trials_ended as integer) as trials_ended,
        cast(trials_converted as integer) as trials_converted,
        cast(landed_accounts as integer) as landed_accounts,
        cast(activated_accounts as integer) as activated_accounts,
        {{ to_money('collected') }} as collected,
        {{ to_money('refunded') }} as refunded,
        eval_date as measured_on,
        is_as_of_month
    from with_trailing_churn
)

select * from final
