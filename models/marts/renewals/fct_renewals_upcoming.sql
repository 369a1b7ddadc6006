-- Annual terms ending in the next 90 days (after the as-of date) of subscriptions that
-- still count, with the account's MRR and health, and a forecast of the MRR they will renew
-- (marts.md v2): the subscription's MRR x the dollar renewal rate observed for the
-- account's health band — over the terms measured in the last 12 months, each by its
-- account's band on the day its renewal window opened; the rate of all bands when the
-- band has no such term, and none before any term was measured.
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

observed as (
    select
        health.health_band,
        outcomes.mrr_up_for_renewal,
        outcomes.mrr_renewed
    from {{ ref('int_billing__renewal_outcomes') }} as outcomes
    left join {{ ref('fct_account_health_daily') }} as health
        on health.account_id = outcomes.account_id
       and health.date = outcomes.renewal_window_start
    where outcomes.is_measured
      and outcomes.measured_on > {{ add_days(as_of_date(), -365) }}
),

band_rates as (
    select
        health_band,
        {{ safe_divide('sum(mrr_renewed)', 'sum(mrr_up_for_renewal)') }} as dollar_renewal_rate
    from observed
    where health_band is not null
    group by health_band
),

overall_rate as (
    select {{ safe_divide('sum(mrr_renewed)', 'sum(mrr_up_for_renewal)') }} as dollar_renewal_rate
    from observed
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
        accounts.health_band,
        {{ to_ratio('coalesce(band_rates.dollar_renewal_rate, overall_rate.dollar_renewal_rate)') }}
            as expected_renewal_rate,
        {{ to_money('coalesce(subscription_mrr.subscription_mrr, 0) * coalesce(band_rates.dollar_renewal_rate, '
                    'overall_rate.dollar_renewal_rate)') }} as forecast_renewed_mrr
    from terms
    left join subscription_mrr on subscription_mrr.subscription_id = terms.subscription_id
    left join accounts on accounts.account_id = terms.account_id
    left join band_rates on band_rates.health_band = accounts.health_band
    cross join overall_rate
)

select * from final
