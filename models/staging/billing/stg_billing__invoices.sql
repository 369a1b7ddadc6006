with

source as (
    select * from {{ source('raw', 'billing__invoices') }}
),

latest as (
    {{ dedupe_versions('source', 'invoice_id', 'updated_at') }}
),

renamed as (
    select
        invoice_id,
        customer_id,
        subscription_id,
        lower(status) as invoice_status,
        lower(currency) as currency,
        subtotal as subtotal_minor,
        discount as discount_minor,
        tax as tax_minor,
        total as total_minor,
        amount_paid as amount_paid_minor,
        period_start,
        period_end,
        created_at,
        paid_at,
        updated_at
    from latest
)

select * from renamed
