with

source as (
    select * from {{ source('raw', 'billing__refunds') }}
),

latest as (
    {{ dedupe_versions('source', 'refund_id') }}
),

renamed as (
    select
        refund_id,
        payment_id,
        amount as amount_minor,
        lower(currency) as currency,
        reason,
        created_at
    from latest
)

select * from renamed
