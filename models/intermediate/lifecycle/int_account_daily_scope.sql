-- Which account-days this run rebuilds (see macros/lifecycle/account_day_scope.sql).
-- Per account: rebuild_from, the first day whose rows are rebuilt, and read_from, the
-- first day of state the rolling windows read. Everything is rebuilt (from 1900-01-01)
-- on a full refresh, without a watermark of a complete earlier build, when a mart is
-- missing, when the settings or the code of the chain changed, or when the as-of date
-- moved back; an account's every day when any of its inputs changed (its signature:
-- MRR and seat intervals, activation, trials, renewal terms, opportunities, NPS
-- responses, failed payments, first-seen date, CSM) or it is new or gone; otherwise
-- only the days after the last build, and the days of usage that arrived since.
{%- set watermark = load_relation(account_day_watermark_relation()) if execute and account_days_incremental() else none %}
{%- set ns = namespace(full=(not account_days_incremental()) or flags.FULL_REFRESH or watermark is none) %}
{%- if execute and not ns.full %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name in account_day_marts() %}
        {%- if adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) is none %}
            {%- set ns.full = true %}
        {%- endif %}
    {%- endfor %}
{%- endif %}
{%- set settings_signature = account_day_settings_signature() %}
{#- the per-account inputs of the account-day grain: (CTE, relation, columns, filter) -#}
{%- set signatures = [
    ('mrr', ref('int_billing__account_mrr_intervals'), ['valid_from', 'valid_to', 'mrr'], none),
    ('seats', ref('int_billing__account_seat_intervals'), ['valid_from', 'valid_to', 'licensed_seats'], none),
    ('activation', ref('int_usage__activation'), ['activation_date'], none),
    ('trials', ref('int_billing__trials'), ['trial_start_date', 'trial_end_date', 'subscription_ended_date'], none),
    ('renewal_terms', ref('int_billing__renewal_terms'),
        ['renewal_window_start', 'subscription_counting_end', 'term_end_date'], none),
    ('opportunities', ref('int_crm__opportunity_windows'),
        ['opportunity_type', 'open_from', 'open_to', 'closed_date', 'is_won'], none),
    ('nps', ref('stg_crm__nps_responses'), ['response_id', 'responded_at', 'score'], none),
    ('failed_payments', ref('int_billing__payments_usd'), ['money_id', 'money_date'],
        "money_kind = 'payment' and payment_status = 'failed'"),
] %}

with

accounts as (
    select * from {{ ref('int_accounts') }}
),

{%- for name, relation, columns, condition in signatures %}
{{ name }} as (
    select account_id, {{ fingerprint_agg(row_signature(columns)) }} as signature
    from {{ relation }}
    {%- if condition %}
    where {{ condition }}
    {%- endif %}
    group by account_id
),

{% endfor -%}
usage_batches as (
    select coalesce(max(max_batch_id), 0) as usage_batch_watermark
    from {{ ref('int_usage__account_daily') }}
),

current_inputs as (
    select
        accounts.account_id,
        accounts.first_seen_date,
        {%- set parts = [row_signature(['accounts.first_seen_date', 'accounts.is_unmatched', 'accounts.csm_id'])] %}
        {%- for name, _, _, _ in signatures %}
        {%- do parts.extend(["'|'", "coalesce(" ~ name ~ ".signature, '')"]) %}
        {%- endfor %}
        md5({{ dbt.concat(parts) }}) as inputs_signature
    from accounts
    {%- for name, _, _, _ in signatures %}
    left join {{ name }} on {{ name }}.account_id = accounts.account_id
    {%- endfor %}
),

{% if ns.full %}

scoped as (
    select
        account_id,
        first_seen_date,
        inputs_signature,
        true as is_current,
        {{ account_day_start_date() }} as rebuild_from
    from current_inputs
),

{% else %}

previous as (
    select * from {{ watermark }}
),

previous_build as (
    select
        max(usage_batch_watermark) as usage_batch_watermark,
        max(as_of_date) as as_of_date,
        max(case when settings_signature <> '{{ settings_signature }}' then 1 else 0 end) as settings_changed
    from previous
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

scoped as (
    select
        coalesce(current_inputs.account_id, previous.account_id) as account_id,
        current_inputs.first_seen_date,
        current_inputs.inputs_signature,
        current_inputs.account_id is not null as is_current,
        case
            when previous_build.settings_changed = 1 or previous_build.as_of_date > {{ as_of_date() }}
                then {{ account_day_start_date() }}
            when previous.account_id is null or current_inputs.account_id is null
                or previous.inputs_signature <> current_inputs.inputs_signature
                then {{ account_day_start_date() }}
            when new_usage.first_new_usage_date < {{ add_days('previous_build.as_of_date', 1) }}
                then new_usage.first_new_usage_date
            else {{ add_days('previous_build.as_of_date', 1) }}
        end as rebuild_from
    from current_inputs
    full outer join previous
        on previous.account_id = current_inputs.account_id
    cross join previous_build
    left join new_usage
        on new_usage.account_id = coalesce(current_inputs.account_id, previous.account_id)
),

{% endif %}

final as (
    select
        scoped.account_id,
        scoped.first_seen_date,
        scoped.is_current,
        scoped.rebuild_from,
        {{ add_days('scoped.rebuild_from', -account_day_lookback_days()) }} as read_from,
        scoped.rebuild_from = {{ account_day_start_date() }} as is_full_rebuild,
        scoped.inputs_signature,
        '{{ settings_signature }}' as settings_signature,
        {{ as_of_date() }} as as_of_date,
        usage_batches.usage_batch_watermark
    from scoped
    cross join usage_batches
)

select * from final
