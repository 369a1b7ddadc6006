{#- dbt-spark applies a contract's constraints with ALTER TABLE whenever the model does not
    name a file format, taking Delta for granted. The tables of local Spark (`method:
    session`, Hive catalog) are Parquet, which refuses ALTER COLUMN ... SET NOT NULL, so
    constraints are applied only to models that name Delta; elsewhere the constraints are
    recorded in the contract, and `constraints_hold` (tests/dbt/generic) checks them. -#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if config.get('contract').enforced and config.get('file_format') == 'delta' -%}
        {%- do alter_table_add_constraints(relation, model.constraints) -%}
        {%- do alter_column_set_constraints(relation, model.columns) -%}
    {%- endif -%}
{% endmacro %}
