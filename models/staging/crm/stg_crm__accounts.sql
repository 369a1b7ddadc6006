with

source as (
    select * from {{ source('raw', 'crm__accounts') }}
),

latest as (
    {{ dedupe_versions('source', 'account_id', 'updated_at') }}
),

renamed as (
    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        name as account_name,
        lower(domain) as domain,
        industry,
        employee_count,
        upper(country) as country,
        owner_id,
        csm_id,
        created_at,
        updated_at
    from latest
    where not coalesce(is_deleted, false)
)

select * from renamed
