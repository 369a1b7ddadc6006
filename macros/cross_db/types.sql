{#- Money and ratio types used by every mart contract, in one place. -#}
{% macro money_type() -%}decimal(18,2){%- endmacro %}
{% macro money_precise_type() -%}decimal(24,8){%- endmacro %}
{% macro ratio_type() -%}decimal(18,6){%- endmacro %}

{#- Division that is null (never 0, never an error) when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
         else cast(({{ numerator }}) as double) / cast(({{ denominator }}) as double) end
{%- endmacro %}

{% macro to_money(expr) -%}
    cast(round({{ expr }}, 2) as {{ money_type() }})
{%- endmacro %}

{% macro to_ratio(expr) -%}
    cast(round({{ expr }}, 6) as {{ ratio_type() }})
{%- endmacro %}

{#- Minor units in one major unit of a currency, from the `currencies` seed's digits
    (2 when the currency is unknown). -#}
{% macro minor_units_per_major(digits_column) -%}
    case coalesce({{ digits_column }}, 2) when 0 then 1 when 3 then 1000 else 100 end
{%- endmacro %}
