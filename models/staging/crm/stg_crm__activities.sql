with

source as (
    select * from {{ source('raw', 'crm__activities') }}
),

latest as (
    {{ dedupe_versions('source', 'activity_id') }}
),

renamed as (
    select
        activity_id,
        account_id,
        lower(type) as activity_type,
        owner_id,
        occurred_at
    from latest
)

select * from renamed
