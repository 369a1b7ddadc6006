-- When each opportunity was open: from its created date until it closed (close_date of a
-- closed opportunity; the day of its closing update when close_date is missing).
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

final as (
    select
        opportunity_id,
        account_id,
        opportunity_type,
        is_closed,
        is_won,
        {{ to_date('created_at') }} as open_from,
        case
            when not is_closed then {{ open_end_date() }}
            else coalesce(close_date, {{ to_date('updated_at') }})
        end as open_to,
        case when is_closed then coalesce(close_date, {{ to_date('updated_at') }}) end as closed_date
    from opportunities
)

select * from final
