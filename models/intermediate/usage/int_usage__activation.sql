-- Activation (marts.md): within N days (default 30) of its first trial or paid day, the
-- account had >= 3 distinct active users and used >= 3 distinct core features. The
-- activation date is the day both thresholds were first reached inside that window.
{% set window_days = var('activation_window_days') %}
with

trials as (
    select account_id, min(trial_start_date) as first_trial_date
    from {{ ref('int_billing__trials') }}
    group by account_id
),

paid as (
    select account_id, min(valid_from) as first_paid_date
    from {{ ref('int_billing__account_mrr_intervals') }}
    where mrr > 0
    group by account_id
),

starts as (
    select
        coalesce(trials.account_id, paid.account_id) as account_id,
        case
            when trials.first_trial_date is null then paid.first_paid_date
            when paid.first_paid_date is null then trials.first_trial_date
            when trials.first_trial_date < paid.first_paid_date then trials.first_trial_date
            else paid.first_paid_date
        end as activation_window_start
    from trials
    full outer join paid
        on paid.account_id = trials.account_id
),

members as (
    select * from {{ ref('int_usage__active_members_daily') }}
),

first_seen_in_window as (
    select
        members.account_id,
        members.member_type,
        members.member_id,
        min(members.activity_date) as first_seen_date
    from members
    inner join starts
        on starts.account_id = members.account_id
    where members.activity_date >= starts.activation_window_start
      and members.activity_date < {{ add_days('starts.activation_window_start', window_days) }}
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

final as (
    select
        starts.account_id,
        starts.activation_window_start,
        {{ add_days('starts.activation_window_start', window_days - 1) }} as activation_window_end,
        coalesce(threshold_dates.active_users_in_window, 0) as active_users_in_window,
        coalesce(threshold_dates.core_features_in_window, 0) as core_features_in_window,
        case
            when threshold_dates.users_threshold_date is null or threshold_dates.features_threshold_date is null then null
            when threshold_dates.users_threshold_date > threshold_dates.features_threshold_date
                then threshold_dates.users_threshold_date
            else threshold_dates.features_threshold_date
        end as activation_date
    from starts
    left join threshold_dates
        on threshold_dates.account_id = starts.account_id
)

select
    *,
    activation_date is not null as is_activated
from final
