{#- Unique combination of columns, checked where the last run could have broken it: an
    incremental model that replaces whole partitions (`partition_column`, e.g. the
    activity date) can only duplicate a key inside the partitions it wrote, so the check
    covers every row of the partitions holding rows of the newest load (`loaded_at_column`)
    — older rows there included. A full build is one load: the whole model is checked. -#}
{% test unique_in_replaced_partitions(model, combination_of_columns, partition_column, loaded_at_column='_dbt_loaded_at') %}
{%- set columns = combination_of_columns | join(', ') %}
with

replaced_partitions as (
    select distinct {{ partition_column }} as partition_value
    from {{ model }}
    where {{ loaded_at_column }} = (select max({{ loaded_at_column }}) from {{ model }})
)

select {{ columns }}, count(*) as copies
from {{ model }}
where {{ partition_column }} in (select partition_value from replaced_partitions)
group by {{ columns }}
having count(*) > 1
{% endtest %}
