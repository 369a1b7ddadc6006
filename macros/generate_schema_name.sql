{#- Schemas are named for their layer (staging, intermediate, marts, reference), not
    prefixed with the target schema: BI tools and the publish step address `marts.*`.
    The `published` target (profiles.yml) reads the published marts.duckdb, where every
    mart is in the target schema (main). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none or target.name == 'published' -%}{{ target.schema | trim }}
    {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
