{#- "Today" of a run as a SQL date literal: var('as_of') when set (laer refresh --as-of),
    else the current date. Every "current", "last N days" and "as-of month" reads this. -#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of is none or as_of | string | trim == '' -%}
        current_date
    {%- else -%}
        cast('{{ as_of }}' as date)
    {%- endif -%}
{%- endmacro %}

{% macro as_of_month() -%}
    {{ month_start(as_of_date()) }}
{%- endmacro %}
