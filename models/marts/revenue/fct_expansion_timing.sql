-- When expansion happens: expansion MRR by month and by months since land, bucketed
-- 0-3 (months 0, 1, 2), 3-12 (3 to 11) and 12+.
with

expansions as (
    select * from {{ ref('fct_mrr_monthly') }}
    where movement = 'expansion'
),

bucketed as (
    select
        month,
        case
            when months_since_land < 3 then '0-3'
            when months_since_land < 12 then '3-12'
            else '12+'
        end as months_since_land_bucket,
        account_id,
        mrr_change
    from expansions
),

final as (
    select
        month,
        months_since_land_bucket,
        cast(count(*) as integer) as expansions,
        cast(count(distinct account_id) as integer) as expanding_accounts,
        {{ to_money('sum(mrr_change)') }} as expansion_mrr
    from bucketed
    group by month, months_since_land_bucket
)

select * from final
