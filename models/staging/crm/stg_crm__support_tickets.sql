with

source as (
    select * from {{ source('raw', 'crm__support_tickets') }}
),

latest as (
    {{ dedupe_versions('source', 'ticket_id', 'updated_at') }}
),

renamed as (
    select
        ticket_id,
        account_id,
        lower(priority) as priority,
        lower(status) as ticket_status,
        created_at,
        resolved_at,
        updated_at
    from latest
)

select * from renamed
