{#- Unique across the whole model for every value the last run appended (rows carrying
    the newest load timestamp, `loaded_at_column`): an append-only incremental model can
    only lose uniqueness through what it appends. On a full build every row has the same
    timestamp, so the whole model is checked. -#}
{% test unique_in_last_load(model, column_name, loaded_at_column='_dbt_loaded_at') %}
with

last_load as (
    select {{ column_name }} as value
    from {{ model }}
    where {{ loaded_at_column }} = (select max({{ loaded_at_column }}) from {{ model }})
)

select {{ column_name }} as value, count(*) as copies
from {{ model }}
where {{ column_name }} in (select value from last_load)
group by {{ column_name }}
having count(*) > 1
{% endtest %}
