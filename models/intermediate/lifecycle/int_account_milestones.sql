-- The days an account's life is measured from, in one place: its first trial day, its land
-- date (the first day with MRR > 0), its cohort month (the first month with month-end MRR >
-- 0, fct_mrr_monthly's basis) and the start of its activation window (the first trial or
-- paid day). Dates after the as-of date are kept (a subscription booked ahead); readers
-- that count only what happened by then compare with the as-of date.
with

trials as (
    select account_id, min(trial_start_date) as first_trial_date
    from {{ ref('int_billing__trials') }}
    group by account_id
),

land as (
    select account_id, min(valid_from) as land_date
    from {{ ref('int_billing__account_mrr_intervals') }}
    where mrr > 0
    group by account_id
),

cohorts as (
    select account_id, min(first_mrr_month) as cohort_month
    from {{ ref('int_billing__account_mrr_monthly') }}
    group by account_id
),

accounts as (
    select account_id from trials
    union
    select account_id from land
    union
    select account_id from cohorts
),

final as (
    select
        accounts.account_id,
        trials.first_trial_date,
        land.land_date,
        cohorts.cohort_month,
        case
            when trials.first_trial_date is null then land.land_date
            when land.land_date is null then trials.first_trial_date
            when trials.first_trial_date < land.land_date then trials.first_trial_date
            else land.land_date
        end as activation_window_start
    from accounts
    left join trials on trials.account_id = accounts.account_id
    left join land on land.account_id = accounts.account_id
    left join cohorts on cohorts.account_id = accounts.account_id
)

select * from final
