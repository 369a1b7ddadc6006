with

source as (
    select * from {{ source('raw', 'crm__nps_responses') }}
),

latest as (
    {{ dedupe_versions('source', 'response_id') }}
),

renamed as (
    select
        response_id,
        account_id,
        contact_id,
        score,
        responded_at
    from latest
)

select * from renamed
