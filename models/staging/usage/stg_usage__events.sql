{#- Product events, each event_id once (its first delivery): a view over raw that leaves
    out the later deliveries base_usage__event_redeliveries lists. The events are stored
    once, in raw; staging renames and casts. A reader filtering on _batch_id or on a
    range of occurred_at reads only those parts of raw (zone maps); event_date is derived,
    so a date filter is best given on occurred_at as well (events_on_touched_dates). -#}
with

events as (
    select * from {{ source('raw', 'usage__events') }}
),

later_deliveries as (
    select _batch_id, _row_number
    from {{ ref('base_usage__event_redeliveries') }}
    where _row_number is not null
),

first_deliveries as (
    select events.*
    from events
    left join later_deliveries
        on later_deliveries._batch_id = events._batch_id
        and later_deliveries._row_number = events._row_number
    where later_deliveries._row_number is null
),

renamed as (
    select
        event_id,
        user_id,
        account_id,
        event_name,
        lower(feature) as feature,
        occurred_at,
        {{ to_date('occurred_at') }} as event_date,
        received_at,
        properties,
        _batch_id,
        _loaded_at
    from first_deliveries
)

select * from renamed
