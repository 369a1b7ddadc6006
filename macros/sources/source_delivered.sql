{#- True once the landing entity has delivered a row (int_source_deliveries). A mart that
    needs an entity wraps what it cannot compute without it:
    `case when {{ source_delivered('usage', 'events') }} then ... end` is null until usage
    arrives, and `where {{ source_delivered('usage', 'events') }}` publishes no rows. -#}
{% macro source_delivered(source, entity) -%}
    (coalesce((select max(case when deliveries.is_delivered then 1 else 0 end)
               from {{ ref('int_source_deliveries') }} as deliveries
               where deliveries.source = '{{ source }}' and deliveries.entity = '{{ entity }}'), 0) = 1)
{%- endmacro %}
