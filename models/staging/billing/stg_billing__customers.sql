with

source as (
    select * from {{ source('raw', 'billing__customers') }}
),

latest as (
    {{ dedupe_versions('source', 'customer_id', 'updated_at') }}
),

renamed as (
    select
        customer_id,
        nullif(trim(account_id), '') as account_id,
        lower(currency) as currency,
        created_at,
        updated_at
    from latest
    where not coalesce(is_deleted, false)
)

select * from renamed
