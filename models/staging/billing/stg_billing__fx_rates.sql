with

source as (
    select * from {{ source('raw', 'billing__fx_rates') }}
),

latest as (
    {{ dedupe_versions('source', 'rate_date, lower(currency)') }}
),

renamed as (
    select
        rate_date,
        lower(currency) as currency,
        usd_per_unit
    from latest
)

select * from renamed
