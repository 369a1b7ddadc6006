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

{#- the batches this run reads, with the columns staging keeps: read where needed rather
    than through one CTE, which an engine may materialise (every column of every event) -#}
{%- set delivered %}
        select event_id, user_id, account_id, event_name, feature, occurred_at, received_at, properties, _batch_id, _row_number
        from {{ source('raw', 'usage__events') }}
        {%- if is_incremental() %}
        where _batch_id > {{ loaded_through }}
        {%- endif %}
{%- endset %}

with

delivered_twice as (
    -- ids delivered more than once in those batches: re-deliveries, a small share
    select event_id
    from ({{ delivered }}
    ) as delivered
    group by event_id
    having count(*) > 1
),

later_deliveries as (
    -- every delivery of such an id after its first (earliest batch, then row), named by
    -- its (batch, row), which the loader gives each raw row once; only these rows are
    -- ranked, so a full build does not sort every event by id
    select _batch_id, _row_number
    from (
        select
            delivered._batch_id,
            delivered._row_number,
            row_number() over (
                partition by delivered.event_id
                order by delivered._batch_id, delivered._row_number
            ) as delivery_rank
        from ({{ delivered }}
        ) as delivered
        inner join delivered_twice
            on delivered_twice.event_id = delivered.event_id
    ) as ranked
    where delivery_rank > 1
),

first_delivery as (
    select delivered.*
    from ({{ delivered }}
    ) as delivered
    left join later_deliveries
        on later_deliveries._batch_id = delivered._batch_id
        and later_deliveries._row_number = delivered._row_number
    where later_deliveries._batch_id is null
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
