{#- One row per day from start_date to end_date (both inclusive), column `date_day`.
    Our own spine (no dbt_utils): dispatched because each engine has its own generator. -#}
{% macro day_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('day_spine', 'laer')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__day_spine(start_date, end_date) -%}
    select cast(unnest(generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as date) as date_day
{%- endmacro %}

{% macro spark__day_spine(start_date, end_date) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as date_day
{%- endmacro %}

{#- Integers 0..n-1 as column `n`. -#}
{% macro integer_series(count) -%}
    {{ return(adapter.dispatch('integer_series', 'laer')(count)) }}
{%- endmacro %}

{% macro default__integer_series(count) -%}
    select cast(unnest(range(0, {{ count }})) as integer) as n
{%- endmacro %}

{% macro spark__integer_series(count) -%}
    select explode(sequence(0, {{ count }} - 1)) as n
{%- endmacro %}
