-- Customer 360: one row per account (CRM accounts and unmatched billing customers), as of
-- the as-of date. No contact e-mails or names of people: PII stays in raw and staging.
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

today as (
    select account_id, mrr
    from {{ ref('int_billing__account_mrr_intervals') }}
    where valid_from <= {{ as_of_date() }} and {{ as_of_date() }} < valid_to
),

stage as (
    select * from {{ ref('fct_laer_stage_daily') }}
    where date = {{ as_of_date() }}
),

health as (
    select * from {{ ref('fct_account_health_daily') }}
    where date = {{ as_of_date() }}
),

milestones as (
    select account_id, land_date, cohort_month
    from {{ ref('int_account_milestones') }}
),

activation as (
    select * from {{ ref('int_usage__activation') }}
),

revenue as (
    select
        account_id,
        sum(case when money_kind = 'payment' and payment_status = 'succeeded' then amount_usd else 0 end)
        - sum(case when money_kind = 'refund' then amount_usd else 0 end) as lifetime_revenue
    from {{ ref('int_billing__payments_usd') }}
    where money_date <= {{ as_of_date() }}
    group by account_id
),

final as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.segment,
        accounts.industry,
        accounts.country,
        accounts.owner_id,
        accounts.csm_id,
        milestones.land_date,
        milestones.cohort_month,
        {{ to_money('coalesce(today.mrr, 0)') }} as current_mrr,
        {{ to_money('12 * coalesce(today.mrr, 0)') }} as current_arr,
        12 * coalesce(today.mrr, 0) >= {{ var('large_customer_arr_usd') }} as is_large_customer,
        coalesce(stage.laer_stage, 'prospect') as laer_stage,
        health.health_score,
        -- a paying account without a score (an unmatched billing customer; any account before
        -- usage has been delivered) is explicitly `unscored`, never silently without a band
        case
            when health.health_band is not null then health.health_band
            when coalesce(today.mrr, 0) > 0 then 'unscored'
        end as health_band,
        coalesce(activation.is_activated, false) as first_30d_activated,
        {{ to_money('coalesce(revenue.lifetime_revenue, 0)') }} as lifetime_revenue,
        coalesce(milestones.land_date < {{ as_of_date() }} and coalesce(today.mrr, 0) <= 0, false) as is_churned,
        accounts.is_unmatched,
        accounts.employee_count,
        activation.activation_date,
        {{ to_date('accounts.created_at') }} as created_date
    from accounts
    left join today on today.account_id = accounts.account_id
    left join stage on stage.account_id = accounts.account_id
    left join health on health.account_id = accounts.account_id
    left join milestones on milestones.account_id = accounts.account_id
    left join activation on activation.account_id = accounts.account_id
    left join revenue on revenue.account_id = accounts.account_id
)

select * from final
