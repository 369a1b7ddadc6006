{#- "Today" of a run as a SQL date literal: var('as_of') when set (`dbt build --vars
    '{as_of: 2026-11-23}'`), else the environment variable LAER_DBT_AS_OF (what `laer refresh
    --as-of` sets), else the current date. Every "current", "last N days" and "as-of month"
    reads this.

    The environment variable is read only while executing, never while parsing: dbt records
    the values a parse reads (CLI vars, and env vars read during parsing), and a value that
    changes every day would make every daily refresh re-parse the whole project instead of
    re-using its partial parse. The date never shapes the graph or a config, only the SQL. -#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if (as_of is none or as_of | string | trim == '') and execute -%}
        {%- set as_of = env_var('LAER_DBT_AS_OF', '') -%}
    {%- endif -%}
    {%- if as_of is none or as_of | string | trim == '' -%}
        current_date
    {%- else -%}
        cast('{{ as_of }}' as date)
    {%- endif -%}
{%- endmacro %}

{% macro as_of_month() -%}
    {{ month_start(as_of_date()) }}
{%- endmacro %}
