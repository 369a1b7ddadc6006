{#- What the last complete build was built from (the watermark, input snapshots) and which
    account-days the next publish must copy. -#}

{% macro account_day_watermark_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='ops',
                                  identifier='account_day_watermark')) }}
{%- endmacro %}

{#- The account-days rebuilt since the last publish (account_id, rebuild_from): the publish
    copies the previous published file and replaces only these rows of the account-day
    marts, then empties it (laer/publish.py). -#}
{% macro account_day_unpublished_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='ops', identifier='account_day_unpublished')) }}
{%- endmacro %}

{#- on-run-end: after the scope and every account-day mart succeeded in this invocation,
    remember what they were built from, and which account-days the next publish must copy. -#}
{% macro record_account_day_watermark(results) -%}
    {%- if execute and account_days_incremental() -%}
        {%- set needed = ['int_account_daily_scope'] + account_day_marts() -%}
        {%- set succeeded = {} -%}
        {%- for result in results -%}
            {%- if result.node.resource_type == 'model' and result.node.name in needed and result.status == 'success' -%}
                {%- do succeeded.update({result.node.name: result.node.relation_name}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if succeeded | length == needed | length -%}
            {%- set watermark = account_day_watermark_relation() -%}
            {%- do run_query("create schema if not exists " ~ watermark.include(identifier=false)) -%}
            {%- set scope = succeeded['int_account_daily_scope'] -%}
            {%- set pending = account_day_unpublished_relation() -%}
            {%- do run_query("create or replace table " ~ watermark ~ " as select account_id, first_seen_date, attributes_signature, "
                             ~ "settings_signature, as_of_date, usage_batch_watermark from " ~ scope ~ " where is_current") -%}
            {#- the inputs as this build saw them (built earlier in this invocation, unchanged since) -#}
            {%- for input in account_day_inputs() -%}
                {%- set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                               | selectattr('name', 'equalto', input.model) | first -%}
                {%- do run_query("create or replace table " ~ account_day_input_snapshot_relation(input) ~ " as "
                                 ~ account_day_input_rows(input, node.relation_name)) -%}
            {%- endfor -%}
            {%- do run_query("create table if not exists " ~ pending ~ " (account_id varchar, rebuild_from date)") -%}
            {%- do run_query("insert into " ~ pending ~ " select account_id, rebuild_from from " ~ scope
                             ~ " where rebuild_from <= as_of_date or not is_current") -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
