-- Why each subscription ended (marts.md v2, "Churn, explained"): one row per subscription
-- with an end, its account, the plan it ended on and its churn type. Involuntary: the
-- subscription's cancellation_reason is payment_failed or payment_disputed, or it ended
-- `unpaid` after a failed payment of its customer in the involuntary_failed_payment_days
-- (30) up to its end; voluntary otherwise (a customer who asked to cancel, or no reason
-- given).
with

subscriptions as (
    select * from {{ ref('stg_billing__subscriptions') }}
    where ended_at is not null
),

customer_accounts as (
    select customer_id, account_id from {{ ref('int_billing__customer_accounts') }}
),

items as (
    select * from {{ ref('int_billing__subscription_items_priced') }}
),

plans as (
    select plan_id, plan_name from {{ ref('stg_billing__plans') }}
),

last_items as (
    -- the plan the subscription ended on: its item that ended last (an open item ends with
    -- the subscription), then the one that started last, then the larger MRR
    select subscription_id, plan_id
    from (
        select
            subscription_id,
            plan_id,
            row_number() over (
                partition by subscription_id
                order by coalesce(ended_date, subscription_ended_date, {{ open_end_date() }}) desc,
                    started_at desc, item_mrr_usd desc, subscription_item_id desc
            ) as item_rank
        from items
    ) as ranked
    where item_rank = 1
),

failed_payments as (
    select customer_id, money_date
    from {{ ref('int_billing__payments_usd') }}
    where money_kind = 'payment' and payment_status = 'failed'
),

failures_before_end as (
    select
        subscriptions.subscription_id,
        count(*) as failed_payments
    from subscriptions
    inner join failed_payments
        on failed_payments.customer_id = subscriptions.customer_id
       and failed_payments.money_date <= {{ to_date('subscriptions.ended_at') }}
       and failed_payments.money_date > {{ add_days(to_date('subscriptions.ended_at'), -var('involuntary_failed_payment_days')) }}
    group by subscriptions.subscription_id
),

final as (
    select
        subscriptions.subscription_id,
        customer_accounts.account_id,
        {{ to_date('subscriptions.ended_at') }} as ended_date,
        last_items.plan_id,
        plans.plan_name,
        subscriptions.subscription_status,
        subscriptions.cancellation_reason,
        subscriptions.cancellation_feedback,
        coalesce(failures_before_end.failed_payments, 0) as failed_payments_before_end,
        case
            when subscriptions.cancellation_reason in ('payment_failed', 'payment_disputed') then 'involuntary'
            when subscriptions.subscription_status = 'unpaid' and failures_before_end.failed_payments > 0
                then 'involuntary'
            else 'voluntary'
        end as churn_type
    from subscriptions
    left join customer_accounts
        on customer_accounts.customer_id = subscriptions.customer_id
    left join last_items
        on last_items.subscription_id = subscriptions.subscription_id
    left join plans
        on plans.plan_id = last_items.plan_id
    left join failures_before_end
        on failures_before_end.subscription_id = subscriptions.subscription_id
)

select * from final
