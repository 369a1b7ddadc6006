{#- Physical layout of the full build of a large table that later runs read by date:
    rows in `column` order, so that DuckDB's per-row-group min/max (zone maps) skip every
    row group outside the dates a daily run reads. A hash aggregate writes its groups in
    no order, so without this a filter on the last 30 days still reads nearly every row
    group. Incremental runs append whole dates, which keeps the order. Spark partitions
    these tables by the same column (partition_by), so it needs no sort. -#}
{% macro cluster_rows_by(column) -%}
    {{ return(adapter.dispatch('cluster_rows_by', 'laer')(column)) }}
{%- endmacro %}

{% macro default__cluster_rows_by(column) -%}
    {%- if not is_incremental() %}
order by {{ column }}
    {%- endif %}
{%- endmacro %}

{% macro spark__cluster_rows_by(column) -%}
{%- endmacro %}
