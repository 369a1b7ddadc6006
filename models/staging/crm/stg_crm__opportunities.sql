with

source as (
    select * from {{ source('raw', 'crm__opportunities') }}
),

latest as (
    {{ dedupe_versions('source', 'opportunity_id', 'updated_at') }}
),

renamed as (
    select
        opportunity_id,
        account_id,
        lower(type) as opportunity_type,
        lower(stage) as stage,
        lower(stage) in ('closed_won', 'closed_lost') as is_closed,
        lower(stage) = 'closed_won' as is_won,
        amount as amount_minor,
        lower(currency) as currency,
        close_date,
        owner_id,
        created_at,
        updated_at
    from latest
    where not coalesce(is_deleted, false)
)

select * from renamed
