with

source as (
    select * from {{ source('raw', 'billing__invoice_lines') }}
),

latest as (
    {{ dedupe_versions('source', 'invoice_line_id') }}
),

renamed as (
    select
        invoice_line_id,
        invoice_id,
        subscription_item_id,
        plan_id,
        lower(line_type) as line_type,
        amount as amount_minor,
        lower(currency) as currency,
        quantity,
        period_start,
        period_end
    from latest
)

select * from renamed
