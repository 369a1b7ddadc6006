-- Landing files rejected into quarantine and not since replaced by a good delivery of the
-- same path nor withdrawn from the landing folder, with the reason, first offending row and column.
with

ledger as (
    select * from {{ ref('stg_loader__load_ledger') }}
),

final as (
    select
        quarantined.path,
        quarantined.landing_source as source,
        quarantined.landing_entity as entity,
        quarantined.batch_id,
        quarantined.content_hash,
        quarantined.loaded_at as quarantined_at,
        {{ redact_emails('quarantined.message') }} as reason,
        quarantined.error_column,
        quarantined.error_row,
        quarantined.error_count
    from ledger as quarantined
    where quarantined.load_status = 'quarantined'
      and not exists (
          select 1 from ledger as later
          where later.path = quarantined.path
            and later.load_status in ('loaded', 'withdrawn')
            and later.batch_id > quarantined.batch_id
      )
)

select * from final
