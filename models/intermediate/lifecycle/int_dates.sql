-- One row per calendar day from the earliest business date in the data to 400 days after
-- the as-of date (room for renewal windows). Every daily and monthly grain joins to this.
with

bounds as (
    select
        least(
            coalesce((select min({{ to_date('created_at') }}) from {{ ref('stg_crm__accounts') }}), {{ as_of_date() }}),
            coalesce((select min({{ to_date('created_at') }}) from {{ ref('stg_billing__subscriptions') }}), {{ as_of_date() }}),
            coalesce((select min({{ to_date('started_at') }}) from {{ ref('stg_billing__subscription_items') }}), {{ as_of_date() }})
        ) as first_day
),

days as (
    {{ day_spine('(select first_day from bounds)', add_days(as_of_date(), 400)) }}
),

final as (
    select
        date_day,
        {{ month_start('date_day') }} as month_start,
        {{ month_end('date_day') }} as month_end,
        date_day = {{ month_end('date_day') }} as is_month_end,
        date_day <= {{ as_of_date() }} as is_on_or_before_as_of
    from days
)

select * from final
