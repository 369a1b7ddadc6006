{#- The engine's incremental strategies: how a run's rebuilt rows replace the old ones. -#}

{#- Incremental strategy `account_scope`: delete the target's rows of each account from
    its rebuild_from day on (config scope_date_column names the day column), then insert
    the rebuilt rows. Both statements run in the model's transaction. DuckDB only (the
    incremental account-day grain is DuckDB's, see account_days_incremental): a delete
    joined with USING, many times faster there than a correlated EXISTS. -#}
{% macro get_incremental_account_scope_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set date_column = config.require('scope_date_column') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} as existing
    using {{ ref('int_account_daily_scope') }} as scope
    where scope.account_id = existing.account_id
      and existing.{{ date_column }} >= scope.rebuild_from;
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}

{#- Incremental strategy `step_function_scope` (int_usage__rolling_member_counts): each
    account in the new rows was recomputed from its recomputed_from day on. Delete its
    intervals that start on or after that day, end the one that spans it there, insert the
    new ones (which start on or after it). All three run in the model's transaction. -#}
{% macro get_incremental_step_function_scope_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set recomputed = "(select account_id, min(recomputed_from) as recomputed_from from " ~ source
                         ~ " group by account_id)" -%}
    delete from {{ target }} as existing
    using {{ recomputed }} as recomputed
    where recomputed.account_id = existing.account_id
      and existing.valid_from >= recomputed.recomputed_from;
    update {{ target }} as existing
    set valid_to = recomputed.recomputed_from
    from {{ recomputed }} as recomputed
    where recomputed.account_id = existing.account_id
      and existing.valid_from < recomputed.recomputed_from
      and existing.valid_to > recomputed.recomputed_from;
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}
