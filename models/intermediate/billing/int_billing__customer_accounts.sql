-- Identity: which account each billing customer belongs to. A customer with no
-- account_id, or one that points to an account the CRM does not have, becomes an
-- account of its own ('unmatched:<customer_id>'), so totals always reconcile with billing.
with

customers as (
    select * from {{ ref('stg_billing__customers') }}
),

subscription_customers as (
    select distinct customer_id from {{ ref('stg_billing__subscriptions') }}
),

all_customers as (
    select
        coalesce(customers.customer_id, subscription_customers.customer_id) as customer_id,
        customers.account_id as linked_account_id,
        customers.currency,
        customers.created_at,
        customers.customer_id is null as is_missing_customer
    from customers
    full outer join subscription_customers
        on subscription_customers.customer_id = customers.customer_id
),

accounts as (
    select account_id from {{ ref('stg_crm__accounts') }}
),

resolved as (
    select
        all_customers.customer_id,
        all_customers.linked_account_id,
        coalesce(accounts.account_id, 'unmatched:' || all_customers.customer_id) as account_id,
        accounts.account_id is null as is_unmatched,
        case
            when accounts.account_id is not null then null
            when all_customers.is_missing_customer then 'customer_not_in_billing_export'
            when all_customers.linked_account_id is null then 'missing_account_id'
            else 'unknown_account_id'
        end as unmatched_reason,
        all_customers.currency,
        all_customers.created_at
    from all_customers
    left join accounts
        on accounts.account_id = all_customers.linked_account_id
)

select * from resolved
