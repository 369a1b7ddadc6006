-- Activation (marts.md): within N days (default 30) of its first trial or paid day, the
-- account had >= 3 distinct active users and used >= 3 distinct core features. The
-- activation date is the day both thresholds were first reached inside that window.
--
-- Read from the events themselves (stg_usage__events), not from the member-day grain
-- (int_usage__active_members_daily): each account reads only the events of its own
-- window, so kpi_monthly's activation rate does not wait for the account-day models.
--
-- Incremental where the account-day grain is (DuckDB): a run recomputes the accounts
-- whose window is new or moved, and those whose window holds a day that received events
-- from batches loaded since the last run (`usage_batch_watermark`); every account when
-- its settings or code changed (`settings_signature`, macros/incremental/signature.sql). Accounts that lost
-- their window are deleted after the insert. The events are read from the earliest
-- recomputed window on, a constant (also on occurred_at, which prunes raw under the
-- staging view), so the engine skips older history.
{%- set window_days = var('activation_window_days') %}
{%- set signature = model_signature() %}
{%- set incremental = account_days_incremental() %}
{#- a table built before its signature column existed is rebuilt as a whole (and gains it) -#}
{%- set rescope = rescopes_signed_table() %}
{%- if rescope %}
    {%- set touched = usage_touched_dates_filter() %}
{%- endif %}
{{
    config(
        materialized=account_day_materialization(),
        unique_key='account_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=([
            "delete from {{ this }} where account_id not in (
                select account_id from {{ ref('int_account_milestones') }} where activation_window_start is not null)"
        ] if incremental else []),
    )
}}

{%- set windows_and_scope %}
starts as (
    select account_id, activation_window_start
    from {{ ref('int_account_milestones') }}
    where activation_window_start is not null
),

{%- if rescope %}

previous as (
    select account_id, activation_window_start, settings_signature
    from {{ this }}
),

touched_dates as (
    select distinct event_date as activity_date
    from {{ ref('stg_usage__events') }}
    where {{ touched }}
),

recomputed as (
    select starts.*
    from starts
    left join previous
        on previous.account_id = starts.account_id
    where previous.account_id is null
       or previous.activation_window_start <> starts.activation_window_start
       or previous.settings_signature <> '{{ signature }}'
       or exists (
           select 1
           from touched_dates
           where touched_dates.activity_date >= starts.activation_window_start
             and touched_dates.activity_date < {{ add_days('starts.activation_window_start', window_days) }}
       )
)
{%- else %}

recomputed as (
    select * from starts
)
{%- endif %}
{%- endset %}

{#- the earliest day any recomputed window reads (none: nothing to recompute) -#}
{%- set members_from = none %}
{%- if rescope %}
    {%- set members_from = run_query("with " ~ windows_and_scope
                                     ~ " select min(activation_window_start) from recomputed").columns[0].values()[0] %}
{%- endif %}

with

{{ windows_and_scope }},

events as (
    {{ usage_events_from(['account_id', 'user_id', 'feature', 'event_date'], rescope, members_from) }}
),

core_features as (
    select feature from {{ ref('core_features') }}
),

members as (
    select account_id, 'user' as member_type, user_id as member_id, event_date as activity_date
    from events

    union all

    select events.account_id, 'core_feature' as member_type, events.feature as member_id, events.event_date as activity_date
    from events
    inner join core_features
        on core_features.feature = events.feature
),

first_seen_in_window as (
    select
        members.account_id,
        members.member_type,
        members.member_id,
        min(members.activity_date) as first_seen_date
    from members
    inner join recomputed
        on recomputed.account_id = members.account_id
    where members.activity_date >= recomputed.activation_window_start
      and members.activity_date < {{ add_days('recomputed.activation_window_start', window_days) }}
    group by members.account_id, members.member_type, members.member_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by account_id, member_type order by first_seen_date, member_id
        ) as member_rank
    from first_seen_in_window
),

threshold_dates as (
    select
        account_id,
        max(case when member_type = 'user' and member_rank = {{ var('activation_min_active_users') }}
                 then first_seen_date end) as users_threshold_date,
        max(case when member_type = 'core_feature' and member_rank = {{ var('activation_min_core_features') }}
                 then first_seen_date end) as features_threshold_date,
        count(distinct case when member_type = 'user' then member_id end) as active_users_in_window,
        count(distinct case when member_type = 'core_feature' then member_id end) as core_features_in_window
    from ranked
    group by account_id
),

batch_watermark as (
    {{ usage_batch_watermark(touched if rescope else none) }}
),

final as (
    select
        recomputed.account_id,
        recomputed.activation_window_start,
        {{ add_days('recomputed.activation_window_start', window_days - 1) }} as activation_window_end,
        coalesce(threshold_dates.active_users_in_window, 0) as active_users_in_window,
        coalesce(threshold_dates.core_features_in_window, 0) as core_features_in_window,
        case
            when threshold_dates.users_threshold_date is null or threshold_dates.features_threshold_date is null then null
            when threshold_dates.users_threshold_date > threshold_dates.features_threshold_date
                then threshold_dates.users_threshold_date
            else threshold_dates.features_threshold_date
        end as activation_date
    from recomputed
    left join threshold_dates
        on threshold_dates.account_id = recomputed.account_id
)

select
    final.*,
    final.activation_date is not null as is_activated,
    {{ usage_batch_watermark_column(rescope) }},
    '{{ signature }}' as settings_signature
from final
cross join batch_watermark
