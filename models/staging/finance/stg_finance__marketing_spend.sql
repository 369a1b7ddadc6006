with

source as (
    select * from {{ source('raw', 'finance__marketing_spend') }}
),

latest as (
    {{ dedupe_versions('source', 'month, lower(channel)') }}
),

renamed as (
    select
        {{ month_start('month') }} as spend_month,
        lower(channel) as channel,
        amount as amount_minor,
        lower(currency) as currency
    from latest
)

select * from renamed
