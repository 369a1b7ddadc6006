-- The state of every account on every day from when it first appears to the as-of date:
-- MRR, seats, trial, usage and the windows the LAER and health rules test. Intervals are
-- expanded to days by joining the date spine; windows are [from, to).
with

accounts as (
    select * from {{ ref('int_accounts') }}
),

dates as (
    select date_day from {{ ref('int_dates') }}
    where is_on_or_before_as_of
),

spine as (
    select
        accounts.account_id,
        dates.date_day
    from accounts
    inner join dates
        on dates.date_day >= accounts.first_seen_date
),

mrr_intervals as (
    select * from {{ ref('int_billing__account_mrr_intervals') }}
),

daily_mrr as (
    select
        mrr_intervals.account_id,
        dates.date_day,
        mrr_intervals.mrr
    from mrr_intervals
    inner join dates
        on dates.date_day >= mrr_intervals.valid_from
       and dates.date_day < mrr_intervals.valid_to
),

land as (
    select account_id, min(valid_from) as land_date
    from mrr_intervals
    where mrr > 0
    group by account_id
),

daily_seats as (
    select
        seats.account_id,
        dates.date_day,
        seats.licensed_seats
    from {{ ref('int_billing__account_seat_intervals') }} as seats
    inner join dates
        on dates.date_day >= seats.valid_from
       and dates.date_day < seats.valid_to
),

daily_members as (
    select
        counts.account_id,
        dates.date_day,
        max(case when counts.member_type = 'user' then counts.distinct_members end) as active_users_window,
        max(case when counts.member_type = 'core_feature' then counts.distinct_members end) as core_features_window
    from {{ ref('int_usage__rolling_member_counts') }} as counts
    inner join dates
        on dates.date_day >= counts.valid_from
       and dates.date_day < counts.valid_to
    group by counts.account_id, dates.date_day
),

usage_daily as (
    select * from {{ ref('int_usage__account_daily') }}
),

mrr_changes as (
    select
        account_id,
        valid_from as change_date,
        mrr,
        lag(mrr) over (partition by account_id order by valid_from) as previous_mrr
    from mrr_intervals
),

opportunities as (
    select * from {{ ref('int_crm__opportunity_windows') }}
),

flag_windows as (
    select account_id, 'trialing' as flag, trial_start_date as window_from,
           case when subscription_ended_date < trial_end_date then subscription_ended_date else trial_end_date end as window_to
    from {{ ref('int_billing__trials') }}

    union all

    select account_id, 'annual_term_ending' as flag, renewal_window_start as window_from,
           case when subscription_counting_end < term_end_date then subscription_counting_end else term_end_date end as window_to
    from {{ ref('int_billing__renewal_terms') }}

    union all

    select account_id, 'open_renewal_opportunity' as flag, open_from as window_from, open_to as window_to
    from opportunities
    where opportunity_type = 'renewal'

    union all

    select account_id, 'open_expansion_opportunity' as flag, open_from as window_from, open_to as window_to
    from opportunities
    where opportunity_type = 'expansion'

    union all

    select account_id, 'recent_expansion' as flag, closed_date as window_from,
           {{ add_days('closed_date', var('expansion_lookback_days')) }} as window_to
    from opportunities
    where opportunity_type = 'expansion' and is_won

    union all

    select account_id, 'recent_expansion' as flag, change_date as window_from,
           {{ add_days('change_date', var('expansion_lookback_days')) }} as window_to
    from mrr_changes
    where previous_mrr > 0 and mrr > previous_mrr
),

daily_flags as (
    select
        flag_windows.account_id,
        dates.date_day,
        max(case when flag = 'trialing' then 1 else 0 end) as is_trialing,
        max(case when flag = 'annual_term_ending' then 1 else 0 end) as is_annual_term_ending,
        max(case when flag = 'open_renewal_opportunity' then 1 else 0 end) as has_open_renewal_opportunity,
        max(case when flag = 'open_expansion_opportunity' then 1 else 0 end) as has_open_expansion_opportunity,
        max(case when flag = 'recent_expansion' then 1 else 0 end) as has_recent_expansion
    from flag_windows
    inner join dates
        on dates.date_day >= flag_windows.window_from
       and dates.date_day < flag_windows.window_to
    group by flag_windows.account_id, dates.date_day
),

activation as (
    select * from {{ ref('int_usage__activation') }}
),

final as (
    select
        spine.account_id,
        spine.date_day,
        coalesce(daily_mrr.mrr, 0) as mrr,
        coalesce(daily_mrr.mrr, 0) > 0 as is_paying,
        coalesce(land.land_date < spine.date_day, false) as had_mrr_before,
        land.land_date,
        coalesce(daily_flags.is_trialing, 0) = 1 as is_trialing,
        coalesce(daily_flags.is_annual_term_ending, 0) = 1 as is_annual_term_ending,
        coalesce(daily_flags.has_open_renewal_opportunity, 0) = 1 as has_open_renewal_opportunity,
        coalesce(daily_flags.has_open_expansion_opportunity, 0) = 1 as has_open_expansion_opportunity,
        coalesce(daily_flags.has_recent_expansion, 0) = 1 as has_recent_expansion,
        coalesce(activation.activation_date <= spine.date_day, false) as is_activated,
        coalesce(daily_seats.licensed_seats, 0) as licensed_seats,
        coalesce(daily_members.active_users_window, 0) as active_users_window,
        coalesce(daily_members.core_features_window, 0) as core_features_window,
        coalesce(usage_daily.events, 0) as events
    from spine
    left join daily_mrr
        on daily_mrr.account_id = spine.account_id and daily_mrr.date_day = spine.date_day
    left join land
        on land.account_id = spine.account_id
    left join daily_flags
        on daily_flags.account_id = spine.account_id and daily_flags.date_day = spine.date_day
    left join activation
        on activation.account_id = spine.account_id
    left join daily_seats
        on daily_seats.account_id = spine.account_id and daily_seats.date_day = spine.date_day
    left join daily_members
        on daily_members.account_id = spine.account_id and daily_members.date_day = spine.date_day
    left join usage_daily
        on usage_daily.account_id = spine.account_id and usage_daily.activity_date = spine.date_day
)

select * from final
