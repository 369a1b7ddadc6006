-- One row per month up to the as-of month, with the day its month-end values are read on:
-- the last day of the month, or the as-of date for the as-of month.
with

dates as (
    select * from {{ ref('int_dates') }}
),

months as (
    -- every month the spine touches, including a first month the spine starts inside
    select distinct month_start, month_end
    from dates
    where month_start <= {{ as_of_month() }}
),

final as (
    select
        month_start as month,
        case
            when month_end > {{ as_of_date() }} then {{ as_of_date() }}
            else month_end
        end as eval_date,
        month_end > {{ as_of_date() }} as is_as_of_month
    from months
)

select * from final
