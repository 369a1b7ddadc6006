{#- Money and ratio types used by every mart contract, in one place. -#}
{% macro money_type() -%}decimal(18,2){%- endmacro %}
{% macro money_precise_type() -%}decimal(24,8){%- endmacro %}
{% macro ratio_type() -%}decimal(18,6){%- endmacro %}

{#- Division that is null (never 0, never an error) when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
         else cast(({{ numerator }}) as double) / cast(({{ denominator }}) as double) end
{%- endmacro %}

{#- Rounding goes through an exact decimal first: engines round doubles differently at an
    exact half (7806.575 is 7806.57499... as a double), and sum doubles in different
    orders; as decimals both round half away from zero, so DuckDB and Spark agree. -#}
{% macro round_to(expr, places, type) -%}
    cast(round(cast({{ expr }} as decimal(38, {{ places + 4 }})), {{ places }}) as {{ type }})
{%- endmacro %}

{% macro to_money(expr) -%}
    {{ round_to(expr, 2, money_type()) }}
{%- endmacro %}

{% macro to_ratio(expr) -%}
    {{ round_to(expr, 6, ratio_type()) }}
{%- endmacro %}

{#- Minor units in one major unit of a currency, from the `currencies` seed's digits
    (2 when the currency is unknown). -#}
{% macro minor_units_per_major(digits_column) -%}
    case coalesce({{ digits_column }}, 2) when 0 then 1 when 3 then 1000 else 100 end
{%- endmacro %}
