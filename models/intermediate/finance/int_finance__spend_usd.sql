-- Marketing and sales cost per month, channel and cost type in USD (the rate of the
-- month's first day): what kpi_monthly's CAC and fct_funnel_monthly's CAC by channel divide.
with

spend as (
    select * from {{ ref('stg_finance__marketing_spend') }}
),

fx as (
    select * from {{ ref('int_billing__fx_rate_ranges') }}
),

final as (
    select
        spend.spend_month as month,
        spend.channel,
        spend.cost_type,
        cast(spend.amount_minor as double) / 100 * cast(fx.usd_per_unit as double) as amount_usd
    from spend
    left join fx
        on fx.currency = spend.currency
       and spend.spend_month >= fx.valid_from
       and spend.spend_month < fx.valid_to
)

select * from final
