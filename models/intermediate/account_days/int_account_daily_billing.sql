-- Account-day state, stage 1 of 3: every account on every day from when it first appears
-- to the as-of date, with its MRR, land date, activation and licensed seats; on an
-- incremental run only the days from each account's read_from (int_account_daily_scope).
-- The state is built in three materialised stages (billing → flags → usage) because
-- DuckDB cannot keep one query joining the account-day spine (≈ 50 M rows at 100,000
-- accounts) to ten interval tables within memory; each stage streams the spine through
-- a few joins whose build sides are the small interval tables (equal account, the date
-- range as a residual condition; MRR and seats are step functions, so at most one
-- interval covers a day).
with

accounts as (
    select
        accounts.account_id,
        accounts.first_seen_date,
        scope.read_from
    from {{ ref('int_accounts') }} as accounts
    inner join {{ ref('int_account_daily_scope') }} as scope
        on scope.account_id = accounts.account_id
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
       and dates.date_day >= accounts.read_from
),

mrr_intervals as (
    select * from {{ ref('int_billing__account_mrr_intervals') }}
),

land as (
    select account_id, land_date
    from {{ ref('int_account_milestones') }}
    where land_date is not null
),

seat_intervals as (
    select * from {{ ref('int_billing__account_seat_intervals') }}
),

activation as (
    select * from {{ ref('int_usage__activation') }}
),

final as (
    select
        spine.account_id,
        spine.date_day,
        coalesce(mrr_intervals.mrr, 0) as mrr,
        land.land_date,
        coalesce(activation.activation_date <= spine.date_day, false) as is_activated,
        coalesce(seat_intervals.licensed_seats, 0) as licensed_seats
    from spine
    left join mrr_intervals
        on mrr_intervals.account_id = spine.account_id
       and spine.date_day >= mrr_intervals.valid_from
       and spine.date_day < mrr_intervals.valid_to
    left join land
        on land.account_id = spine.account_id
    left join activation
        on activation.account_id = spine.account_id
    left join seat_intervals
        on seat_intervals.account_id = spine.account_id
       and spine.date_day >= seat_intervals.valid_from
       and spine.date_day < seat_intervals.valid_to
)

select * from final
