with

source as (
    select * from {{ source('raw', 'billing__plans') }}
),

latest as (
    {{ dedupe_versions('source', 'plan_id', 'updated_at') }}
),

renamed as (
    select
        plan_id,
        product,
        plan_name,
        lower(billing_interval) as billing_interval,
        interval_count,
        unit_amount as unit_amount_minor,
        lower(currency) as currency,
        coalesce(is_free, false) as is_free,
        updated_at
    from latest
)

select * from renamed
