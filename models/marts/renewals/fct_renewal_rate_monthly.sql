-- Renewal rate by month of term end and segment ('all' for every segment), in accounts and
-- in dollars: renewed / up for renewal, for annual-or-longer terms that ended on or before
-- the as-of date. Dollars (marts.md v2) count the terms measured a month after their end
-- (int_billing__renewal_outcomes): MRR renewed, capped at what was up, / MRR up.
with

outcomes as (
    select * from {{ ref('int_billing__renewal_outcomes') }}
),

accounts as (
    select account_id, segment from {{ ref('int_accounts') }}
),

rows_with_segment as (
    select
        {{ month_start('outcomes.term_end_date') }} as month,
        coalesce(accounts.segment, 'unknown') as segment,
        outcomes.is_renewed,
        outcomes.is_measured,
        outcomes.mrr_up_for_renewal,
        outcomes.mrr_renewed
    from outcomes
    left join accounts on accounts.account_id = outcomes.account_id
),

sliced as (
    select * from rows_with_segment
    union all
    select month, 'all' as segment, is_renewed, is_measured, mrr_up_for_renewal, mrr_renewed from rows_with_segment
),

final as (
    select
        month,
        segment,
        cast(count(*) as integer) as up_for_renewal,
        cast(sum(case when is_renewed then 1 else 0 end) as integer) as renewed,
        {{ to_ratio(safe_divide('sum(case when is_renewed then 1 else 0 end)', 'count(*)')) }} as renewal_rate,
        {{ to_money('sum(case when is_measured then mrr_up_for_renewal else 0 end)') }} as mrr_up_for_renewal,
        {{ to_money('sum(case when is_measured then mrr_renewed else 0 end)') }} as mrr_renewed,
        {{ to_ratio(safe_divide('sum(case when is_measured then mrr_renewed else 0 end)',
                                'sum(case when is_measured then mrr_up_for_renewal else 0 end)')) }} as dollar_renewal_rate,
        cast(sum(case when is_measured then 0 else 1 end) as integer) as terms_not_yet_measured
    from sliced
    group by month, segment
)

select * from final
