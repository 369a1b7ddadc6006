{#- Unique across the whole model for every value the last run appended (rows carrying
    the newest load timestamp, `loaded_at_column`): an append-only incremental model can
    only lose uniqueness through what it appends. When every row comes from one load (a
    full build) the whole model is checked with a plain grouping. -#}
{% test unique_in_last_load(model, column_name, loaded_at_column='_dbt_loaded_at') %}
{%- set loads = 2 %}
{%- if execute %}
    {%- set loads = run_query("select count(distinct " ~ loaded_at_column ~ ") from " ~ model).columns[0].values()[0] %}
{%- endif %}
{%- if loads > 1 %}
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
{%- else %}
select {{ column_name }} as value, count(*) as copies
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{%- endif %}
{% endtest %}
