-- Licensed seats of an account as a step function: the quantity of its live paid items
-- (started_at <= d < ended_at, subscription not ended; trials included: a trialing
-- account has seats to adopt).
with

items as (
    select
        account_id,
        started_date as valid_from,
        case
            when coalesce(ended_date, {{ open_end_date() }}) < coalesce(subscription_ended_date, {{ open_end_date() }})
                then coalesce(ended_date, {{ open_end_date() }})
            else coalesce(subscription_ended_date, {{ open_end_date() }})
        end as valid_to,
        quantity
    from {{ ref('int_billing__subscription_items_priced') }}
    where not is_incomplete
      and not is_free
),

live as (
    select * from items where valid_from < valid_to
),

swept as (
    {{ interval_sweep('live', 'account_id', 'valid_from', 'valid_to', 'quantity') }}
)

select
    account_id,
    valid_from,
    valid_to,
    cast(value as bigint) as licensed_seats
from swept
