-- Which account-days this run rebuilds (macros/incremental/, docs/incremental-engine.md).
-- Per account: rebuild_from, the first day whose rows are rebuilt; read_from, the first
-- day of state (the day before: previous stage, "was it alerting"); events_from, the
-- first day of events the early warning's windows read. Everything is rebuilt (from 1900-01-01)
-- on a full refresh, without a watermark and input snapshots of a complete earlier
-- build, when a mart is missing, when the settings or the code of the chain changed
-- (macros/incremental/signature.sql: its models, the macros and seeds they reach, their vars), or
-- when the as-of date moved back; an account's every day when it is gone; every day it
-- has when it is new or its attributes changed (first-seen date, matched or not, CSM:
-- they apply to every day), from its first day (then or before);
-- otherwise from the earliest of: the first day a change of its inputs reaches (MRR and
-- seat intervals, activation, trials, renewal terms, opportunities, NPS responses,
-- failed payments; account_day_inputs), the first day of usage that arrived since, and
-- the day after the last build.
{%- set watermark = load_relation(account_day_watermark_relation()) if execute and account_days_incremental() else none %}
{%- set ns = namespace(full=(not account_days_incremental()) or flags.FULL_REFRESH or watermark is none) %}
{%- if execute and not ns.full %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name in account_day_marts() %}
        {%- if adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) is none %}
            {%- set ns.full = true %}
        {%- endif %}
    {%- endfor %}
    {%- for input in account_day_inputs() %}
        {%- if load_relation(account_day_input_snapshot_relation(input)) is none %}
            {%- set ns.full = true %}
        {%- endif %}
    {%- endfor %}
{%- endif %}
{%- set settings_signature = account_day_settings_signature() %}
{%- if settings_signature == 'unknown' %}{% set ns.full = true %}{% endif %}
{#- the inputs are compared only on an incremental run; the dependency is there always #}
{%- for input in account_day_inputs() %}
-- depends_on: {{ ref(input.model) }}
{%- endfor %}

with

accounts as (
    select
        account_id,
        first_seen_date,
        {{ row_signature(['first_seen_date', 'is_unmatched', 'csm_id']) }} as attributes_signature
    from {{ ref('int_accounts') }}
),

-- the chain's settings and code, and whether usage has delivered (the health mart is empty
-- before it): a change of either rebuilds every day
signature as (
    select {{ dbt.concat(["'" ~ settings_signature ~ "'",
                          "case when " ~ source_delivered('usage', 'events') ~ " then ':usage' else '' end"]) }}
        as settings_signature
),

usage_batches as (
    select coalesce(max(max_batch_id), 0) as usage_batch_watermark
    from {{ ref('int_usage__account_daily') }}
),

{% if ns.full %}

scoped as (
    select
        account_id,
        first_seen_date,
        attributes_signature,
        true as is_current,
        {{ account_day_start_date() }} as rebuild_from
    from accounts
),


{% else %}

previous as (
    select * from {{ watermark }}
),

previous_build as (
    select
        max(usage_batch_watermark) as usage_batch_watermark,
        max(as_of_date) as as_of_date,
        max(case when previous.settings_signature <> signature.settings_signature then 1 else 0 end)
            as settings_changed
    from previous
    cross join signature
),

new_usage as (
    select
        usage_daily.account_id,
        min(usage_daily.activity_date) as first_new_usage_date
    from {{ ref('int_usage__account_daily') }} as usage_daily
    cross join previous_build
    where usage_daily.max_batch_id > previous_build.usage_batch_watermark
    group by usage_daily.account_id
),

input_changes as (
    {%- for input in account_day_inputs() %}
    {{ account_day_input_changes(input, ref(input.model)) | indent(4) }}
    {{- "\n\n    union all\n" if not loop.last }}
    {%- endfor %}
),

changed_from as (
    select account_id, min(changed_from) as changed_from
    from input_changes
    group by account_id
),

scoped as (
    select
        coalesce(accounts.account_id, previous.account_id) as account_id,
        accounts.first_seen_date,
        accounts.attributes_signature,
        accounts.account_id is not null as is_current,
        case
            when previous_build.settings_changed = 1 or previous_build.as_of_date > {{ as_of_date() }}
                then {{ account_day_start_date() }}
            when accounts.account_id is null then {{ account_day_start_date() }}
            -- new: every day it has, from its first day (which bounds what is read)
            when previous.account_id is null then accounts.first_seen_date
            -- CSM or matching changed (every day shows them), or the first day moved: every
            -- day it has now or had before
            when previous.attributes_signature <> accounts.attributes_signature then
                case
                    when previous.first_seen_date < accounts.first_seen_date then previous.first_seen_date
                    else accounts.first_seen_date
                end
            else least(
                {{ add_days('previous_build.as_of_date', 1) }},
                new_usage.first_new_usage_date,
                changed_from.changed_from
            )
        end as rebuild_from
    from accounts
    full outer join previous
        on previous.account_id = accounts.account_id
    cross join previous_build
    left join new_usage
        on new_usage.account_id = coalesce(accounts.account_id, previous.account_id)
    left join changed_from
        on changed_from.account_id = coalesce(accounts.account_id, previous.account_id)
),

{% endif %}

final as (
    select
        scoped.account_id,
        scoped.first_seen_date,
        scoped.is_current,
        scoped.rebuild_from,
        {{ add_days('scoped.rebuild_from', -1) }} as read_from,
        {{ add_days('scoped.rebuild_from', -account_day_lookback_days()) }} as events_from,
        scoped.rebuild_from = {{ account_day_start_date() }} as is_full_rebuild,
        scoped.attributes_signature,
        signature.settings_signature,
        {{ as_of_date() }} as as_of_date,
        usage_batches.usage_batch_watermark
    from scoped
    cross join usage_batches
    cross join signature
)

select * from final
