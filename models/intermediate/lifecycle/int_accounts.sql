-- Every customer of the metrics: CRM accounts, plus one account per unmatched billing
-- customer (flagged, no CRM attributes), so company totals reconcile with billing.
with

crm_accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

unmatched as (
    select
        account_id,
        min(created_at) as created_at
    from {{ ref('int_billing__customer_accounts') }}
    where is_unmatched
    group by account_id
),

first_subscription as (
    select
        customer_accounts.account_id,
        min(subscriptions.created_at) as first_subscription_at
    from {{ ref('stg_billing__subscriptions') }} as subscriptions
    inner join {{ ref('int_billing__customer_accounts') }} as customer_accounts
        on customer_accounts.customer_id = subscriptions.customer_id
    group by customer_accounts.account_id
),

unioned as (
    select
        account_id,
        account_name,
        industry,
        country,
        owner_id,
        csm_id,
        employee_count,
        created_at,
        false as is_unmatched
    from crm_accounts

    union all

    select
        account_id,
        cast(null as {{ dbt.type_string() }}) as account_name,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_string() }}) as owner_id,
        cast(null as {{ dbt.type_string() }}) as csm_id,
        cast(null as bigint) as employee_count,
        created_at,
        true as is_unmatched
    from unmatched
),

final as (
    select
        unioned.account_id,
        unioned.account_name,
        case
            when unioned.employee_count is null then 'unknown'
            when unioned.employee_count < {{ var('segment_mid_market_min_employees') }} then 'smb'
            when unioned.employee_count < {{ var('segment_enterprise_min_employees') }} then 'mid_market'
            else 'enterprise'
        end as segment,
        unioned.industry,
        unioned.country,
        unioned.owner_id,
        unioned.csm_id,
        unioned.employee_count,
        unioned.is_unmatched,
        unioned.created_at,
        case
            when first_subscription.first_subscription_at is null then {{ to_date('unioned.created_at') }}
            when unioned.created_at is null then {{ to_date('first_subscription.first_subscription_at') }}
            when first_subscription.first_subscription_at < unioned.created_at
                then {{ to_date('first_subscription.first_subscription_at') }}
            else {{ to_date('unioned.created_at') }}
        end as first_seen_date
    from unioned
    left join first_subscription
        on first_subscription.account_id = unioned.account_id
)

select * from final
