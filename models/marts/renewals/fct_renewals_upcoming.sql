-- Annual terms ending in the next 90 days (after the as-of date) of subscriptions that
-- still count, with the account's MRR and health.
with

terms as (
    select * from {{ ref('int_billing__renewal_terms') }}
    where term_end_date > {{ as_of_date() }}
      and term_end_date <= {{ add_days(as_of_date(), var('renewal_window_days')) }}
      and subscription_counting_end > {{ as_of_date() }}
),

subscription_mrr as (
    select subscription_id, sum(item_mrr_usd) as subscription_mrr
    from {{ ref('int_billing__mrr_pieces') }}
    where valid_from <= {{ as_of_date() }} and valid_to > {{ as_of_date() }}
    group by subscription_id
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

final as (
    select
        terms.account_id,
        terms.subscription_id,
        terms.term_end_date,
        cast({{ days_between(as_of_date(), 'terms.term_end_date') }} as integer) as days_until_term_end,
        cast(terms.term_months as integer) as term_months,
        {{ to_money('coalesce(subscription_mrr.subscription_mrr, 0)') }} as subscription_mrr,
        accounts.current_mrr as account_mrr,
        accounts.segment,
        accounts.csm_id,
        accounts.health_score,
        accounts.health_band
    from terms
    left join subscription_mrr on subscription_mrr.subscription_id = terms.subscription_id
    left join accounts on accounts.account_id = terms.account_id
)

select * from final
