-- Month-end roll-up of LAER stages for dashboards: accounts and MRR per stage.
with

stages as (
    select * from {{ ref('fct_laer_stage_daily') }}
),

months as (
    select * from {{ ref('int_months') }}
),

final as (
    select
        months.month,
        stages.laer_stage as stage,
        cast(count(*) as integer) as accounts,
        {{ to_money('sum(stages.mrr)') }} as mrr,
        cast(sum(case when stages.is_stalled then 1 else 0 end) as integer) as stalled_accounts,
        {{ to_money('sum(case when stages.is_stalled then stages.mrr else 0 end)') }} as stalled_mrr
    from stages
    inner join months
        on months.eval_date = stages.date
    group by months.month, stages.laer_stage
)

select * from final
