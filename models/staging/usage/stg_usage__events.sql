{#- Tens of millions of rows: an incremental table, not a view. Each run appends the
    events of batches loaded since the last run; an event_id already present (a
    re-delivery, in any later batch) is dropped, so a delivered-twice event is one event. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        file_format=('parquet' if target.type == 'spark' else none),
    )
}}

{#- the last appended batch, as a constant: the scan of raw skips the loaded history -#}
{%- set loaded_through = 0 -%}
{%- if is_incremental() and execute -%}
    {%- set loaded_through = run_query("select coalesce(max(_batch_id), 0) from " ~ this).columns[0].values()[0] -%}
{%- endif %}

with

source as (
    select * from {{ source('raw', 'usage__events') }}
    {% if is_incremental() %}
    where _batch_id > {{ loaded_through }}
    {% endif %}
),

first_delivery as (
    select *
    from (
        select
            *,
            row_number() over (partition by event_id order by _batch_id, _row_number) as _delivery_rank
        from source
    ) as deliveries
    where _delivery_rank = 1
),

new_events as (
    select first_delivery.*
    from first_delivery
    {% if is_incremental() %}
    left join {{ this }} as existing
        on existing.event_id = first_delivery.event_id
    where existing.event_id is null
    {% endif %}
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
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as _dbt_loaded_at
    from new_events
)

select * from renamed
