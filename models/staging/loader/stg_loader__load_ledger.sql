-- The landing loader's ledger: one row per file load attempt (loaded or quarantined).
with

source as (
    select * from {{ source('raw', '_load_ledger') }}
),

renamed as (
    select
        batch_id,
        path,
        source as landing_source,
        entity as landing_entity,
        content_hash,
        size_bytes,
        row_count,
        loaded_at,
        status as load_status,
        message,
        error_column,
        error_row,
        error_count,
        warnings
    from source
)

select * from renamed
