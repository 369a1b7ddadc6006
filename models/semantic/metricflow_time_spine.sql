-- MetricFlow's daily time spine: one row per day up to the as-of date (int_dates).
with

days as (
    select date_day from {{ ref('int_dates') }} where is_on_or_before_as_of
)

select date_day from days
