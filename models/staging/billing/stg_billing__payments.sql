with

source as (
    select * from {{ source('raw', 'billing__payments') }}
),

latest as (
    {{ dedupe_versions('source', 'payment_id') }}
),

renamed as (
    select
        payment_id,
        invoice_id,
        customer_id,
        amount as amount_minor,
        lower(currency) as currency,
        lower(status) as payment_status,
        created_at,
        failure_reason
    from latest
)

select * from renamed
