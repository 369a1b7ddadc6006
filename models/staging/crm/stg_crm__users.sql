-- PII (e-mail, names) stops here: no model selects these columns; only delivery reads them
-- (the CSM digests' addresses, laer/delivery/).
with

source as (
    select * from {{ source('raw', 'crm__users') }}
),

latest as (
    {{ dedupe_versions('source', 'user_id', 'updated_at') }}
),

renamed as (
    select
        user_id,
        lower(trim(email)) as email,
        name as user_name,
        lower(role) as role,
        updated_at
    from latest
    where not coalesce(is_deleted, false)
)

select * from renamed
