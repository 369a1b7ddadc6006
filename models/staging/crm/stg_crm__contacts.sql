-- PII (e-mail, names) stops here: nothing downstream of staging selects these columns.
with

source as (
    select * from {{ source('raw', 'crm__contacts') }}
),

latest as (
    {{ dedupe_versions('source', 'contact_id', 'updated_at') }}
),

renamed as (
    select
        contact_id,
        account_id,
        lower(email) as email,
        first_name,
        last_name,
        title,
        created_at,
        updated_at
    from latest
    where not coalesce(is_deleted, false)
)

select * from renamed
