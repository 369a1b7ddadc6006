-- Customer-success touches per account up to the as-of date: every CRM activity on the
-- account (calls, meetings, e-mails, QBRs, trainings, ...) counts as a touch.
with

activities as (
    select * from {{ ref('stg_crm__activities') }}
    where {{ to_date('occurred_at') }} <= {{ as_of_date() }}
),

final as (
    select
        account_id,
        max({{ to_date('occurred_at') }}) as last_touch_date,
        count(*) as touches_total,
        sum(case when activity_type = 'qbr' then 1 else 0 end) as qbrs_total
    from activities
    group by account_id
)

select * from final
