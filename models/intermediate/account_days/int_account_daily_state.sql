-- The state of every account on every day from when it first appears to the as-of date:
-- MRR, seats, trial, usage and the windows the LAER and health rules test.
-- Stage 3 of 3 (see int_account_daily_billing for why there are stages): stage 2 plus
-- the rolling distinct active users / core features (step functions per account) and
-- the day's events. Like stages 1 and 2 it holds the days from each account's read_from,
-- the day before its first rebuilt day (every day on a full build). The rolling counts
-- are computed from rebuild_from on (null on the day before, where no rule reads them).
with

flags as (
    select * from {{ ref('int_account_daily_flags') }}
),

member_counts as (
    select * from {{ ref('int_usage__rolling_member_counts') }}
),

scope as (
    select account_id, read_from, rebuild_from from {{ ref('int_account_daily_scope') }}
),

usage_daily as (
    select usage_daily.*
    from {{ ref('int_usage__account_daily') }} as usage_daily
    inner join scope
        on scope.account_id = usage_daily.account_id
       and usage_daily.activity_date >= scope.read_from
),

final as (
    select
        flags.account_id,
        flags.date_day,
        flags.mrr,
        flags.mrr > 0 as is_paying,
        coalesce(flags.land_date < flags.date_day, false) as had_mrr_before,
        flags.land_date,
        flags.is_trialing,
        flags.is_annual_term_ending,
        flags.has_open_renewal_opportunity,
        flags.has_open_expansion_opportunity,
        flags.has_recent_expansion,
        flags.is_activated,
        flags.licensed_seats,
        case when flags.date_day >= scope.rebuild_from then coalesce(user_counts.distinct_members, 0) end
            as active_users_window,
        case when flags.date_day >= scope.rebuild_from then coalesce(feature_counts.distinct_members, 0) end
            as core_features_window,
        coalesce(usage_daily.events, 0) as events
    from flags
    inner join scope
        on scope.account_id = flags.account_id
    left join member_counts as user_counts
        on user_counts.account_id = flags.account_id
       and user_counts.member_type = 'user'
       and flags.date_day >= user_counts.valid_from
       and flags.date_day < user_counts.valid_to
    left join member_counts as feature_counts
        on feature_counts.account_id = flags.account_id
       and feature_counts.member_type = 'core_feature'
       and flags.date_day >= feature_counts.valid_from
       and flags.date_day < feature_counts.valid_to
    left join usage_daily
        on usage_daily.account_id = flags.account_id
       and usage_daily.activity_date = flags.date_day
)

select * from final
