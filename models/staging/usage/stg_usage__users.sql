-- PII (e-mail) stops here.
with

source as (
    select * from {{ source('raw', 'usage__users') }}
),

latest as (
    {{ dedupe_versions('source', 'user_id', 'updated_at') }}
),

renamed as (
    select
        user_id,
        account_id,
        lower(email) as email,
        lower(role) as user_role,
        created_at,
        updated_at
    from latest
    where not coalesce(is_deleted, false)
)

select * from renamed
