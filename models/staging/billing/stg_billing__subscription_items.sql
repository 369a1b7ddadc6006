with

source as (
    select * from {{ source('raw', 'billing__subscription_items') }}
),

latest as (
    {{ dedupe_versions('source', 'subscription_item_id', 'updated_at') }}
),

renamed as (
    select
        subscription_item_id,
        subscription_id,
        plan_id,
        quantity,
        coalesce(discount_percent, 0) as discount_percent,
        started_at,
        ended_at,
        updated_at
    from latest
)

select * from renamed
