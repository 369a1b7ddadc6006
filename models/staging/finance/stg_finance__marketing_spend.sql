with

source as (
    select * from {{ source('raw', 'finance__marketing_spend') }}
),

latest as (
    {{ dedupe_versions('source', "month, lower(channel), coalesce(lower(cost_type), 'marketing')") }}
),

renamed as (
    select
        {{ month_start('month') }} as spend_month,
        lower(channel) as channel,
        amount as amount_minor,
        lower(currency) as currency,
        -- v2: marketing when absent
        coalesce(lower(cost_type), 'marketing') as cost_type
    from latest
)

select * from renamed
