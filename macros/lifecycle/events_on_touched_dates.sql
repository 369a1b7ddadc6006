{#- The incremental usage models recompute exactly the dates that received rows from
    batches loaded since the model's last run (tracked in its max_batch_id), however late
    they arrived (a fixed look-back window would silently miss older ones).

    touched_dates_filter(relation, date_column, batch_column, watermark_column): the
    `where` condition on `date_column` selecting the dates of `relation` holding rows of
    batches above this model's watermark (max of its `watermark_column`); nothing on a
    full build. The
    watermark and the dates are looked up before the query runs and written into it as
    constants, so the engine skips the untouched parts of the table (DuckDB's zone maps,
    Spark's file statistics) instead of scanning all history. -#}
{% macro touched_dates_filter(relation, date_column, batch_column, watermark_column='max_batch_id') -%}
    {%- if not is_incremental() -%}
        1 = 1
    {%- elif not execute -%}
        1 = 0
    {%- else -%}
        {%- set watermark = run_query("select coalesce(max(" ~ watermark_column ~ "), 0) from " ~ this).columns[0].values()[0] -%}
        {%- set dates = run_query("select distinct " ~ date_column ~ " from " ~ relation ~ " where " ~ batch_column
                                  ~ " > " ~ watermark ~ " order by " ~ date_column).columns[0].values() -%}
        {%- if dates -%}
            {{ date_column }} in ({% for d in dates %}cast('{{ d }}' as date){{ ", " if not loop.last }}{% endfor %})
        {%- else -%}
            1 = 0
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- CTEs `events` and `scoped` for int_usage__active_members_daily: every event on a full
    build; on an incremental run, every event of the touched event dates; only `columns`
    (and event_date, _batch_id): an engine may materialise `scoped`, read more than once. -#}
{% macro events_on_touched_dates(columns) -%}
events as (
    select {{ (columns + ['event_date', '_batch_id']) | unique | join(', ') }}
    from {{ ref('stg_usage__events') }}
),

scoped as (
    select events.*
    from events
    where {{ touched_dates_filter(ref('stg_usage__events'), 'event_date', '_batch_id') }}
)
{%- endmacro %}
