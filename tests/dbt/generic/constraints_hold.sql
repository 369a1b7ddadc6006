{#- Every column constraint of the model's contract (not_null, check) holds on its rows:
    one row per violated constraint, with how many rows violate it (a row is counted under
    the first constraint it violates). DuckDB enforces these constraints when it builds the
    table, so a refresh there skips this test (tag enforced_by_constraints, see
    orchestration/assets/warehouse_models.py); engines that only record constraints (Spark
    on Parquet: NOT_ENFORCED in dbt-spark) run it. -#}
{% test constraints_hold(model) %}
{{ config(tags=['enforced_by_constraints']) }}
{%- set checks = [] -%}
{%- if execute -%}
    {%- set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                   | selectattr('name', 'equalto', model.identifier) | first -%}
    {%- for column in node.columns.values() -%}
        {%- for constraint in column.constraints -%}
            {%- if constraint.type == 'not_null' -%}
                {%- do checks.append((column.name ~ ' not null', column.name ~ ' is null')) -%}
            {%- elif constraint.type == 'check' -%}
                {%- do checks.append((column.name ~ ' check ' ~ constraint.expression,
                                      'not (' ~ constraint.expression ~ ')')) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}
with violations as (
    select
        case
        {%- for name, violated in checks %}
            when {{ violated }} then '{{ name | replace("'", "''") }}'
        {%- endfor %}
        {%- if not checks %}
            when false then null
        {%- endif %}
        end as violated_constraint
    from {{ model }}
)

select violated_constraint, count(*) as violating_rows
from violations
where violated_constraint is not null
group by violated_constraint
{% endtest %}
