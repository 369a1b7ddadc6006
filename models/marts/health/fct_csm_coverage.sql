-- Customer-success coverage of paying accounts on the as-of date: days since the last
-- CSM touch (any CRM activity on the account) against the tier's policy
-- (seed csm_touch_policy: enterprise 30 days, mid-market 60, smb 90).
with

accounts as (
    select * from {{ ref('dim_accounts') }}
    where current_mrr > 0 and not is_unmatched
),

touches as (
    select * from {{ ref('int_crm__csm_touches') }}
),

policy as (
    select * from {{ ref('csm_touch_policy') }}
),

final as (
    select
        accounts.account_id,
        accounts.segment,
        accounts.csm_id,
        accounts.current_mrr,
        accounts.health_band,
        touches.last_touch_date,
        cast({{ days_between('touches.last_touch_date', as_of_date()) }} as integer) as days_since_last_touch,
        cast(policy.max_days_between_touches as integer) as max_days_between_touches,
        coalesce({{ days_between('touches.last_touch_date', as_of_date()) }} > policy.max_days_between_touches, true) as is_overdue,
        cast(coalesce(touches.touches_total, 0) as integer) as touches_total
    from accounts
    left join touches on touches.account_id = accounts.account_id
    left join policy on policy.segment = accounts.segment
)

select * from final
