with

source as (
    select * from {{ source('raw', 'crm__leads') }}
),

latest as (
    {{ dedupe_versions('source', 'lead_id', 'updated_at') }}
),

renamed as (
    select
        lead_id,
        company_name,
        lower(source) as lead_source,
        lower(status) as lead_status,
        created_at,
        converted_at,
        converted_account_id,
        updated_at
    from latest
)

select * from renamed
