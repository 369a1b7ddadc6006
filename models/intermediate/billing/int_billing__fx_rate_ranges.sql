-- Each FX rate is valid from its date until the next known rate of the currency, so a
-- lookup "latest rate on or before day d" is a plain range join. USD needs no rate.
with

rates as (
    select * from {{ ref('stg_billing__fx_rates') }}
    where usd_per_unit > 0
),

ranges as (
    select
        currency,
        rate_date as valid_from,
        coalesce(
            lead(rate_date) over (partition by currency order by rate_date),
            {{ open_end_date() }}
        ) as valid_to,
        usd_per_unit
    from rates
    where currency <> '{{ var("reporting_currency") }}'
),

reporting_currency as (
    select
        '{{ var("reporting_currency") }}' as currency,
        cast('1900-01-01' as date) as valid_from,
        {{ open_end_date() }} as valid_to,
        cast(1 as decimal(18,8)) as usd_per_unit
)

select * from ranges
union all
select * from reporting_currency
