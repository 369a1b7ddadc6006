-- Free-plan vs paid retention: accounts by how they entered (free plan, trial, or paid
-- directly) and entry month; how many ever paid and how many still pay on the as-of date.
with

items as (
    select * from {{ ref('int_billing__subscription_items_priced') }}
    where not is_incomplete
),

first_items as (
    select
        account_id,
        is_free,
        trial_end_date,
        started_date,
        row_number() over (partition by account_id order by started_at, subscription_item_id) as item_rank
    from items
),

entries as (
    select
        account_id,
        started_date as entry_date,
        case when is_free then 'free_plan' when trial_end_date is not null then 'trial' else 'paid' end as entry_plan
    from first_items
    where item_rank = 1
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

final as (
    select
        {{ month_start('entries.entry_date') }} as entry_month,
        entries.entry_plan,
        cast(count(*) as integer) as accounts,
        cast(sum(case when accounts.land_date is not null then 1 else 0 end) as integer) as ever_paid_accounts,
        cast(sum(case when accounts.current_mrr > 0 then 1 else 0 end) as integer) as paying_accounts_now,
        {{ to_ratio(safe_divide('sum(case when accounts.land_date is not null then 1 else 0 end)', 'count(*)')) }} as paid_conversion_rate,
        {{ to_ratio(safe_divide('sum(case when accounts.current_mrr > 0 then 1 else 0 end)', 'sum(case when accounts.land_date is not null then 1 else 0 end)')) }} as paid_retention_rate
    from entries
    inner join accounts on accounts.account_id = entries.account_id
    where entries.entry_date <= {{ as_of_date() }}
    group by {{ month_start('entries.entry_date') }}, entries.entry_plan
)

select * from final
