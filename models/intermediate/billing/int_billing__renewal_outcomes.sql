-- Renewals in dollars (marts.md v2): every annual-or-longer term that ended on or before
-- the as-of date, with the MRR that was up for renewal (the subscription's MRR on the
-- term's last day) and the MRR renewed: the account's MRR one month after the term end,
-- capped at what was up (an upsell is expansion, not renewal). Measured once that day has
-- come (is_measured); before, the renewed MRR is null.
with

terms as (
    select * from {{ ref('int_billing__renewal_terms') }}
    where term_end_date <= {{ as_of_date() }}
),

account_mrr as (
    select * from {{ ref('int_billing__account_mrr_intervals') }}
),

with_measure_day as (
    select
        *,
        {{ add_months('term_end_date', 1) }} as measured_on
    from terms
),

measured as (
    select
        terms.subscription_id,
        terms.account_id,
        terms.term_number,
        terms.term_end_date,
        terms.renewal_window_start,
        terms.is_renewed,
        terms.mrr_up_for_renewal,
        terms.measured_on,
        terms.measured_on <= {{ as_of_date() }} as is_measured,
        coalesce(account_mrr.mrr, 0) as account_mrr_after
    from with_measure_day as terms
    left join account_mrr
        on account_mrr.account_id = terms.account_id
       and terms.measured_on >= account_mrr.valid_from
       and terms.measured_on < account_mrr.valid_to
),

final as (
    select
        subscription_id,
        account_id,
        term_number,
        term_end_date,
        renewal_window_start,
        is_renewed,
        mrr_up_for_renewal,
        measured_on,
        is_measured,
        case
            when not is_measured then null
            when account_mrr_after < mrr_up_for_renewal then account_mrr_after
            else mrr_up_for_renewal
        end as mrr_renewed
    from measured
)

select * from final
