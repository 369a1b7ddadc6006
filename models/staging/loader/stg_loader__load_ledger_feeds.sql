-- What each export file (stripe/, hubspot/, segment/) delivered to the contract's raw tables.
with

source as (
    select * from {{ source('raw', '_load_ledger_feeds') }}
),

renamed as (
    select
        batch_id,
        source as landing_source,
        entity as landing_entity,
        row_count
    from source
)

select * from renamed
