{#- The change signature of the account-day chain, computed from the parsed project: if it
    differs from the one the last complete build recorded, every account-day is rebuilt
    (int_account_daily_scope), so no day keeps numbers of an older formula beside days of
    the new one. It covers:

    - the code of every chain model (account_day_chain_models) and of every macro of this
      project that code reaches — called directly, through other macros, or as the
      `<engine>__` / `default__` implementation of a dispatched macro;
    - the contents of the seeds the chain reads (core features);
    - the values of the vars that code reads (the as-of date aside: moving it back
      rebuilds everything on its own, forward is the daily run);
    - the dbt version and the engine, for dbt's own macros.

    It hashes the models' source rather than their compiled SQL, which holds the as-of date
    and would differ every day. 'unknown' (no graph to read) means a full rebuild. -#}
{% macro account_day_settings_signature() -%}
    {%- set readable = code_signature(account_day_chain_models()) -%}
    {{ return('unknown' if readable == 'unknown' else local_md5(readable)) }}
{%- endmacro %}

{#- The models of the chain: the engine's own (models/intermediate/account_days/) and the
    marts configured with account_day_mart_config. -#}
{% macro account_day_chain_models() -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model'
                and ('account_days' in node.fqn or node.config.meta.get('account_day_column')) -%}
            {%- do names.append(node.name) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names | sort) }}
{%- endmacro %}

{#- The readable form of the signature of `model_names` (one part per model, macro, seed and
    var); 'unknown' while parsing. -#}
{% macro code_signature(model_names) -%}
    {#- no graph to read while parsing, nor in a unit test -#}
    {%- if not execute or not model_names or not graph.get('nodes') -%}{{ return('unknown') }}{%- endif -%}
    {%- set parts = ['dbt=' ~ dbt_version, 'engine=' ~ adapter.type()] -%}
    {%- set code = [] -%}
    {%- set frontier = [] -%}
    {%- set seeds = [] -%}
    {%- for node in graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
            | selectattr('name', 'in', model_names) | sort(attribute='name') -%}
        {%- do parts.append(node.name ~ ':' ~ local_md5(node.raw_code)) -%}
        {%- do code.append(node.raw_code) -%}
        {%- do frontier.extend(node.depends_on.macros) -%}
        {%- for unique_id in node.depends_on.nodes if unique_id.startswith('seed.') -%}
            {%- do seeds.append(unique_id) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set reached = [] -%}
    {#- breadth first, one level of macro calls per pass (the project's calls nest under 10) -#}
    {%- for _ in range(20) -%}
        {%- set next = [] -%}
        {%- for unique_id in frontier | unique | sort if unique_id.startswith('macro.' ~ project_name ~ '.') -%}
            {%- set name = unique_id.split('.')[-1] -%}
            {%- for candidate in [name, adapter.type() ~ '__' ~ name, 'default__' ~ name] -%}
                {%- set found = context.get(candidate) -%}
                {%- if candidate not in reached and found is not none and found.macro is defined
                       and found.macro.package_name == project_name -%}
                    {%- do reached.append(candidate) -%}
                    {%- do code.append(found.macro.macro_sql) -%}
                    {%- do next.extend(found.macro.depends_on.macros) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do frontier.clear() -%}
        {%- do frontier.extend(next) -%}
    {%- endfor -%}
    {%- for name in reached | sort -%}
        {%- do parts.append(name ~ ':' ~ local_md5(context[name].macro.macro_sql)) -%}
    {%- endfor -%}
    {%- for unique_id in seeds | unique | sort -%}
        {%- do parts.append(unique_id ~ ':' ~ graph.nodes[unique_id].checksum.checksum) -%}
    {%- endfor -%}
    {%- set var_names = modules.re.findall("(?<![\\w.])var\\(\\s*['\"](\\w+)['\"]", code | join('\n')) -%}
    {%- for name in var_names | unique | sort if name != 'as_of' -%}
        {%- do parts.append(name ~ '=' ~ var(name, none)) -%}
    {%- endfor -%}
    {{ return(parts | join(';')) }}
{%- endmacro %}

{#- The signature of the model being built — its code, the macros and seeds it reaches, the
    vars it reads: an incremental model that keeps a `settings_signature` column recomputes
    everything when it differs. -#}
{% macro model_signature() -%}
    {{ return(local_md5(code_signature([model.name]))) }}
{%- endmacro %}
