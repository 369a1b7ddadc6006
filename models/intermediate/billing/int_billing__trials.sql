-- One row per subscription that had a trial. It converted when the subscription has
-- MRR > 0 (a counting paid item) on or after its trial end.
with

subscriptions as (
    select * from {{ ref('stg_billing__subscriptions') }}
    where trial_end is not null
      and subscription_status <> 'incomplete'
),

customer_accounts as (
    select * from {{ ref('int_billing__customer_accounts') }}
),

pieces as (
    select * from {{ ref('int_billing__mrr_pieces') }}
),

paid_after_trial as (
    select
        pieces.subscription_id,
        min(pieces.valid_from) as first_paid_date
    from pieces
    inner join subscriptions
        on subscriptions.subscription_id = pieces.subscription_id
    where pieces.valid_from >= {{ to_date('subscriptions.trial_end') }}
    group by pieces.subscription_id
),

final as (
    select
        subscriptions.subscription_id,
        customer_accounts.account_id,
        {{ to_date('coalesce(subscriptions.trial_start, subscriptions.created_at)') }} as trial_start_date,
        {{ to_date('subscriptions.trial_end') }} as trial_end_date,
        {{ to_date('subscriptions.ended_at') }} as subscription_ended_date,
        paid_after_trial.first_paid_date,
        paid_after_trial.first_paid_date is not null as is_converted
    from subscriptions
    inner join customer_accounts
        on customer_accounts.customer_id = subscriptions.customer_id
    left join paid_after_trial
        on paid_after_trial.subscription_id = subscriptions.subscription_id
)

select * from final
