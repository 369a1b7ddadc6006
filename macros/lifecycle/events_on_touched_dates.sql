{#- CTEs `events` and `scoped` for the incremental usage models: on a full build every
    event; on an incremental run, every event of the event dates that received events
    in batches loaded since this model's last run (tracked in its max_batch_id), however
    late they arrived. The model then recomputes exactly those dates.
    The watermark and the dates are looked up before the query runs and written into it
    as constants, so the engine skips the untouched parts of the event table (DuckDB's
    zone maps, Spark's file statistics) instead of scanning all history. -#}
{% macro events_on_touched_dates() -%}
{%- set touched = [] -%}
{%- if is_incremental() and execute -%}
    {%- set watermark = run_query("select coalesce(max(max_batch_id), 0) from " ~ this).columns[0].values()[0] -%}
    {%- set dates = run_query("select distinct event_date from " ~ ref('stg_usage__events')
                              ~ " where _batch_id > " ~ watermark ~ " order by event_date").columns[0].values() -%}
    {%- for d in dates -%}{%- do touched.append("cast('" ~ d ~ "' as date)") -%}{%- endfor -%}
{%- endif -%}
events as (
    select * from {{ ref('stg_usage__events') }}
),

scoped as (
    select events.*
    from events
    {%- if is_incremental() %}
    {%- if touched %}
    where events.event_date in ({{ touched | join(', ') }})
    {%- else %}
    where 1 = 0
    {%- endif %}
    {%- endif %}
)
{%- endmacro %}
