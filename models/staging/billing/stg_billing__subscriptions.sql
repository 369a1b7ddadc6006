with

source as (
    select * from {{ source('raw', 'billing__subscriptions') }}
),

latest as (
    {{ dedupe_versions('source', 'subscription_id', 'updated_at') }}
),

renamed as (
    select
        subscription_id,
        customer_id,
        lower(status) as subscription_status,
        created_at,
        trial_start,
        trial_end,
        current_period_start,
        current_period_end,
        coalesce(cancel_at_period_end, false) as cancel_at_period_end,
        canceled_at,
        ended_at,
        lower(cancellation_reason) as cancellation_reason,
        lower(cancellation_feedback) as cancellation_feedback,
        updated_at
    from latest
)

select * from renamed
