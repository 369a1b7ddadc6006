-- Every entity of the landing contract (the raw source tables) and whether it has ever
-- delivered: a file loaded with at least one row (a contract file, or an export whose
-- adapter wrote rows into the entity's raw table). An entity never delivered is an empty raw
-- table; the marts that need it are published empty or with null columns (landing.md v2).
with

{#- the contract's entities are the raw source's tables (not the loader's own ledger) -#}
{%- set entities = [] -%}
{%- if execute -%}
    {%- for node in graph.sources.values() | selectattr('source_name', 'equalto', 'raw') | sort(attribute='name') -%}
        {%- if not node.name.startswith('_') -%}
            {%- do entities.append(node.name.split('__')) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

contract_entities as (
    {%- for source_name, entity_name in entities %}
    select cast('{{ source_name }}' as {{ dbt.type_string() }}) as source,
           cast('{{ entity_name }}' as {{ dbt.type_string() }}) as entity
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as source, cast(null as {{ dbt.type_string() }}) as entity
    where 1 = 0
    {%- endfor %}
),

loaded as (
    select * from {{ ref('stg_loader__load_ledger') }}
    where load_status = 'loaded' and row_count > 0
),

{#- an export file (stripe/, hubspot/, segment/) delivers every raw table its adapter fed -#}
deliveries as (
    select landing_source, landing_entity, row_count, loaded_at from loaded
    union all
    select feeds.landing_source, feeds.landing_entity, feeds.row_count, loaded.loaded_at
    from {{ ref('stg_loader__load_ledger_feeds') }} as feeds
    inner join loaded on loaded.batch_id = feeds.batch_id
    where feeds.row_count > 0
),

loaded_files as (
    select
        landing_source as source,
        landing_entity as entity,
        count(*) as files_loaded,
        sum(row_count) as rows_loaded,
        min(loaded_at) as first_delivered_at,
        max(loaded_at) as last_delivered_at
    from deliveries
    group by landing_source, landing_entity
),

final as (
    select
        contract_entities.source,
        contract_entities.entity,
        loaded_files.files_loaded is not null as is_delivered,
        coalesce(loaded_files.files_loaded, 0) as files_loaded,
        coalesce(loaded_files.rows_loaded, 0) as rows_loaded,
        loaded_files.first_delivered_at,
        loaded_files.last_delivered_at
    from contract_entities
    left join loaded_files
        on loaded_files.source = contract_entities.source
       and loaded_files.entity = contract_entities.entity
)

select * from final
