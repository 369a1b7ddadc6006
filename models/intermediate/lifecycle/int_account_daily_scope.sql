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

with

accounts as (
    select * from {{ ref('int_accounts') }}
),

mrr as (
    select account_id, {{ fingerprint_agg(row_signature(['valid_from', 'valid_to', 'mrr'])) }} as signature
    from {{ ref('int_billing__account_mrr_intervals') }}
    group by account_id
),

seats as (
    select account_id, {{ fingerprint_agg(row_signature(['valid_from', 'valid_to', 'licensed_seats'])) }} as signature
    from {{ ref('int_billing__account_seat_intervals') }}
    group by account_id
),

activation as (
    select account_id, {{ fingerprint_agg(row_signature(['activation_date'])) }} as signature
    from {{ ref('int_usage__activation') }}
    group by account_id
),

trials as (
    select account_id, {{ fingerprint_agg(row_signature(['trial_start_date', 'trial_end_date', 'subscription_ended_date'])) }} as signature
    from {{ ref('int_billing__trials') }}
    group by account_id
),

renewal_terms as (
    select account_id, {{ fingerprint_agg(row_signature(['renewal_window_start', 'subscription_counting_end', 'term_end_date'])) }} as signature
    from {{ ref('int_billing__renewal_terms') }}
    group by account_id
),

opportunities as (
    select account_id, {{ fingerprint_agg(row_signature(['opportunity_type', 'open_from', 'open_to', 'closed_date', 'is_won'])) }} as signature
    from {{ ref('int_crm__opportunity_windows') }}
    group by account_id
),

nps as (
    select account_id, {{ fingerprint_agg(row_signature(['response_id', 'responded_at', 'score'])) }} as signature
    from {{ ref('stg_crm__nps_responses') }}
    group by account_id
),

failed_payments as (
    select account_id, {{ fingerprint_agg(row_signature(['money_id', 'money_date'])) }} as signature
    from {{ ref('int_billing__payments_usd') }}
    where money_kind = 'payment' and payment_status = 'failed'
    group by account_id
),

usage_batches as (
    select coalesce(max(max_batch_id), 0) as usage_batch_watermark
    from {{ ref('int_usage__account_daily') }}
),

current_inputs as (
    select
        accounts.account_id,
        accounts.first_seen_date,
        md5({{ dbt.concat([
            row_signature(['accounts.first_seen_date', 'accounts.is_unmatched', 'accounts.csm_id']),
            "coalesce(mrr.signature, '')", "'|'", "coalesce(seats.signature, '')", "'|'",
            "coalesce(activation.signature, '')", "'|'", "coalesce(trials.signature, '')", "'|'",
            "coalesce(renewal_terms.signature, '')", "'|'", "coalesce(opportunities.signature, '')", "'|'",
            "coalesce(nps.signature, '')", "'|'", "coalesce(failed_payments.signature, '')",
        ]) }}) as inputs_signature
    from accounts
    left join mrr on mrr.account_id = accounts.account_id
    left join seats on seats.account_id = accounts.account_id
    left join activation on activation.account_id = accounts.account_id
    left join trials on trials.account_id = accounts.account_id
    left join renewal_terms on renewal_terms.account_id = accounts.account_id
    left join opportunities on opportunities.account_id = accounts.account_id
    left join nps on nps.account_id = accounts.account_id
    left join failed_payments on failed_payments.account_id = accounts.account_id
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
