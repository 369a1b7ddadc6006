{#- The account-day engine: which account-days a run rebuilds (docs/incremental-engine.md).

    Incremental account-day marts (fct_account_health_daily, fct_laer_stage_daily,
    early_warnings): what a run rebuilds, and the bookkeeping that makes it safe.

    int_account_daily_scope says, per account, from which day on its rows are rebuilt
    (`rebuild_from`), from which day its state is read (`read_from`, the day before: the
    previous stage, "was it alerting") and from which day the early warning reads daily
    events for its windows (`events_from`). The account-day stages (billing → flags →
    state) hold only the days from read_from; the marts delete their rows from
    rebuild_from and insert the rebuilt ones (incremental strategy `account_scope`).

    After a dbt invocation in which the scope and all three marts succeeded, on-run-end
    stores what they were built from (`record_account_day_watermark`); the next scope
    compares against that. A run that fails part-way leaves the watermark alone, so the
    next run rebuilds everything both runs changed. -#}

{#- The marts of the grain: every model configured with account_day_mart_config (at
    execution; the graph is empty while parsing). -#}
{% macro account_day_marts() -%}
    {%- set names = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
            and node.config.meta.get('account_day_column') -%}
        {%- do names.append(node.name) -%}
    {%- endfor -%}
    {{ return(names | sort) }}
{%- endmacro %}

{#- Incremental on DuckDB (the embedded warehouse); a distributed engine rebuilds the
    account-day grain in full (var account_days_incremental: false does the same here). -#}
{% macro account_days_incremental() -%}
    {{ return(target.type == 'duckdb' and var('account_days_incremental', true)) }}
{%- endmacro %}

{% macro account_day_materialization() -%}
    {{ return('incremental' if account_days_incremental() else 'table') }}
{%- endmacro %}

{#- The daily events the early warning reads before the first rebuilt day: its windows
    (recent days + baseline weeks) for the day before it ("was it alerting"). -#}
{% macro account_day_lookback_days() -%}
    {{ return(var('early_warning_recent_days') + 7 * var('early_warning_baseline_weeks')) }}
{%- endmacro %}

{#- rebuild_from of an account rebuilt from its first day. -#}
{% macro account_day_start_date() -%}
    cast('1900-01-01' as date)
{%- endmacro %}

{#- The config every incremental account-day mart shares; `date_column` is its day. A change
    of its columns is a change of code: a new column is added to the table (dbt's
    append_new_columns, what a contracted incremental model allows) and the change signature
    rebuilds every row with it. A removed column needs the chain rebuilt in full
    (`dbt build --full-refresh --select int_account_daily_scope+`). -#}
{% macro account_day_mart_config(date_column) -%}
    {{ config(
        materialized=account_day_materialization(),
        incremental_strategy='account_scope',
        scope_date_column=date_column,
        on_schema_change='append_new_columns',
        meta={'account_day_column': date_column},
    ) }}
{%- endmacro %}

{#- The per-account inputs of the account-day grain. A run compares each with the copy
    the last complete build left in ops (`account_day_input_snapshot_relation`) and
    rebuilds an account from the first day a difference can reach: rows are paired by
    account and key; a row present on one side only reaches from its earliest date; a
    pair whose values differ from the earlier of their dates; a pair differing only in
    dates from the earliest date that differs (an interval ended on 15 June changes
    nothing before 15 June). Every rule of the chain reads these inputs forward in time
    (a window [from, to), "in the last N days"), which is what makes this sound. -#}
{% macro account_day_inputs() -%}
    {{ return([
        {'name': 'mrr', 'model': 'int_billing__account_mrr_intervals', 'key_columns': ['valid_from'],
         'date_columns': ['valid_from', 'valid_to'], 'value_columns': ['mrr']},
        {'name': 'seats', 'model': 'int_billing__account_seat_intervals', 'key_columns': ['valid_from'],
         'date_columns': ['valid_from', 'valid_to'], 'value_columns': ['licensed_seats']},
        {'name': 'activation', 'model': 'int_usage__activation', 'key_columns': [],
         'date_columns': ['activation_date'], 'value_columns': []},
        {'name': 'trials', 'model': 'int_billing__trials', 'key_columns': ['subscription_id'],
         'date_columns': ['trial_start_date', 'trial_end_date', 'subscription_ended_date'], 'value_columns': []},
        {'name': 'renewal_terms', 'model': 'int_billing__renewal_terms', 'key_columns': ['subscription_id', 'term_number'],
         'date_columns': ['renewal_window_start', 'subscription_counting_end', 'term_end_date'], 'value_columns': []},
        {'name': 'opportunities', 'model': 'int_crm__opportunity_windows', 'key_columns': ['opportunity_id'],
         'date_columns': ['open_from', 'open_to', 'closed_date'], 'value_columns': ['opportunity_type', 'is_won']},
        {'name': 'nps', 'model': 'stg_crm__nps_responses', 'key_columns': ['response_id'],
         'date_columns': [to_date('responded_at')], 'value_columns': ['responded_at', 'score']},
        {'name': 'failed_payments', 'model': 'int_billing__payments_usd', 'key_columns': ['money_id'],
         'date_columns': ['money_date'], 'value_columns': [],
         'filter': "money_kind = 'payment' and payment_status = 'failed'"},
    ]) }}
{%- endmacro %}

{% macro account_day_input_snapshot_relation(input) -%}
    {{ return(api.Relation.create(database=target.database, schema='ops',
                                  identifier='account_day_input__' ~ input.name)) }}
{%- endmacro %}

{#- An input's rows as compared: account, key, its dates (date_0, date_1, …), the rest. -#}
{% macro account_day_input_rows(input, relation) -%}
select
    account_id,
    {{ row_signature(input.key_columns) if input.key_columns else "''" }} as input_key,
    {%- for column in input.date_columns %}
    {{ column }} as date_{{ loop.index0 }},
    {%- endfor %}
    {{ row_signature(input.value_columns) if input.value_columns else "''" }} as value_signature
from {{ relation }}
{%- if input.filter %}
where {{ input.filter }}
{%- endif %}
{%- endmacro %}

{#- Per account, the first day a difference between an input and its snapshot reaches
    (see account_day_inputs). `least` skips nulls (DuckDB; the incremental grain's engine). -#}
{% macro account_day_input_changes(input, relation) -%}
{%- set n = input.date_columns | length -%}
{%- set ns = namespace(current=[], previous=[], differing=[]) -%}
{%- for i in range(n) -%}
    {%- do ns.current.append('current_rows.date_' ~ i) -%}
    {%- do ns.previous.append('previous_rows.date_' ~ i) -%}
    {%- do ns.differing.append('case when current_rows.date_' ~ i ~ ' is distinct from previous_rows.date_' ~ i
                               ~ ' then least(current_rows.date_' ~ i ~ ', previous_rows.date_' ~ i ~ ') end') -%}
{%- endfor -%}
select
    coalesce(current_rows.account_id, previous_rows.account_id) as account_id,
    min(case
        when current_rows.account_id is null then least({{ ns.previous | join(', ') }})
        when previous_rows.account_id is null then least({{ ns.current | join(', ') }})
        when current_rows.value_signature <> previous_rows.value_signature
            then least({{ (ns.current + ns.previous) | join(', ') }})
        else least({{ ns.differing | join(', ') }})
    end) as changed_from
from ({{ account_day_input_rows(input, relation) }}) as current_rows
full outer join {{ account_day_input_snapshot_relation(input) }} as previous_rows
    on previous_rows.account_id = current_rows.account_id
   and previous_rows.input_key = current_rows.input_key
where current_rows.account_id is null
   or previous_rows.account_id is null
   or current_rows.value_signature <> previous_rows.value_signature
   {%- for i in range(n) %}
   or current_rows.date_{{ i }} is distinct from previous_rows.date_{{ i }}
   {%- endfor %}
group by coalesce(current_rows.account_id, previous_rows.account_id)
{%- endmacro %}

{#- An order-independent digest of a group's rows (one string per row). -#}
{% macro fingerprint_agg(row_expr) -%}
    {{ return(adapter.dispatch('fingerprint_agg', 'laer')(row_expr)) }}
{%- endmacro %}

{% macro default__fingerprint_agg(row_expr) -%}
    md5(string_agg({{ row_expr }}, '|' order by {{ row_expr }}))
{%- endmacro %}

{% macro spark__fingerprint_agg(row_expr) -%}
    md5(array_join(array_sort(collect_list({{ row_expr }})), '|'))
{%- endmacro %}

{#- One row's columns as one string; null is spelled so it differs from ''. -#}
{% macro row_signature(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first %}{% do parts.append("'~'") %}{% endif -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{#- A mart rebuilt in full reads the account-day stages, which hold every day only when
    the scope is complete: refuse (instead of publishing a mart that lost its history)
    when a mart alone is fully refreshed after incremental runs. -#}
{% macro require_complete_account_scope() -%}
    {%- if execute and not is_incremental() and model.resource_type == 'model' -%}
        {%- set scope = load_relation(ref('int_account_daily_scope')) -%}
        {%- if scope is not none -%}
            {%- set partial = run_query("select count(*) from " ~ scope ~ " where not is_full_rebuild").columns[0].values()[0] -%}
            {%- if partial > 0 -%}
                {{ exceptions.raise_compiler_error(
                    model.name ~ " would be rebuilt in full from a partial account-day scope (" ~ partial
                    ~ " accounts rebuild only recent days). Rebuild the chain together: "
                    ~ "dbt build --full-refresh --select int_account_daily_scope+") }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- In an incremental account-day mart, the join that keeps only the rows the run
    rebuilds: those of `alias` from its account's rebuild_from on (nothing on a full build).
    The account is `alias`.account_id unless `account_column` names another. -#}
{% macro only_rebuilt_account_days(alias, date_column, account_column=none) -%}
    {%- if is_incremental() %}
    inner join {{ ref('int_account_daily_scope') }} as rebuilt
        on rebuilt.account_id = {{ account_column or alias ~ '.account_id' }}
       and {{ alias }}.{{ date_column }} >= rebuilt.rebuild_from
    {%- endif %}
{%- endmacro %}
