-- Renewal rate by month of term end and segment ('all' for every segment):
-- renewed / up for renewal, for annual-or-longer terms that ended on or before the as-of date.
with

terms as (
    select * from {{ ref('int_billing__renewal_terms') }}
    where term_end_date <= {{ as_of_date() }}
),

accounts as (
    select account_id, segment from {{ ref('int_accounts') }}
),

rows_with_segment as (
    select
        {{ month_start('terms.term_end_date') }} as month,
        coalesce(accounts.segment, 'unknown') as segment,
        terms.is_renewed
    from terms
    left join accounts on accounts.account_id = terms.account_id
),

sliced as (
    select month, segment, is_renewed from rows_with_segment
    union all
    select month, 'all' as segment, is_renewed from rows_with_segment
),

final as (
    select
        month,
        segment,
        cast(count(*) as integer) as up_for_renewal,
        cast(sum(case when is_renewed then 1 else 0 end) as integer) as renewed,
        {{ to_ratio(safe_divide('sum(case when is_renewed then 1 else 0 end)', 'count(*)')) }} as renewal_rate
    from sliced
    group by month, segment
)

select * from final
