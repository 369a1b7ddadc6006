-- Term ends of annual-or-longer subscriptions: anchor (first counting day) + k x term.
-- A term end is "up for renewal"; it renewed when the subscription still counts on the
-- term-end day.
with

pieces as (
    select * from {{ ref('int_billing__mrr_pieces') }}
    where is_annual_or_longer
),

subscription_terms as (
    select
        subscription_id,
        account_id,
        min(valid_from) as anchor_date,
        max(valid_to) as counting_end,
        max(term_months) as term_months
    from pieces
    group by subscription_id, account_id
),

term_numbers as (
    {{ integer_series(60) }}
),

term_ends as (
    select
        subscription_terms.subscription_id,
        subscription_terms.account_id,
        subscription_terms.anchor_date,
        subscription_terms.counting_end,
        subscription_terms.term_months,
        term_numbers.n + 1 as term_number,
        {{ add_months('subscription_terms.anchor_date', '(term_numbers.n + 1) * subscription_terms.term_months') }} as term_end_date
    from subscription_terms
    cross join term_numbers
),

all_subscription_pieces as (
    select * from {{ ref('int_billing__mrr_pieces') }}
),

renewed as (
    select distinct
        term_ends.subscription_id,
        term_ends.term_end_date
    from term_ends
    inner join all_subscription_pieces
        on all_subscription_pieces.subscription_id = term_ends.subscription_id
       and term_ends.term_end_date >= all_subscription_pieces.valid_from
       and term_ends.term_end_date < all_subscription_pieces.valid_to
),

mrr_at_term_end as (
    -- the subscription's MRR on the term's last day: what is up for renewal
    select
        term_ends.subscription_id,
        term_ends.term_end_date,
        sum(all_subscription_pieces.item_mrr_usd) as subscription_mrr
    from term_ends
    inner join all_subscription_pieces
        on all_subscription_pieces.subscription_id = term_ends.subscription_id
       and {{ add_days('term_ends.term_end_date', -1) }} >= all_subscription_pieces.valid_from
       and {{ add_days('term_ends.term_end_date', -1) }} < all_subscription_pieces.valid_to
    group by term_ends.subscription_id, term_ends.term_end_date
),

final as (
    select
        term_ends.subscription_id,
        term_ends.account_id,
        term_ends.term_number,
        term_ends.term_months,
        term_ends.term_end_date,
        term_ends.counting_end as subscription_counting_end,
        {{ add_days('term_ends.term_end_date', -var('renewal_window_days')) }} as renewal_window_start,
        renewed.subscription_id is not null as is_renewed,
        coalesce(mrr_at_term_end.subscription_mrr, 0) as mrr_up_for_renewal
    from term_ends
    left join renewed
        on renewed.subscription_id = term_ends.subscription_id
       and renewed.term_end_date = term_ends.term_end_date
    left join mrr_at_term_end
        on mrr_at_term_end.subscription_id = term_ends.subscription_id
       and mrr_at_term_end.term_end_date = term_ends.term_end_date
    -- terms that began while the subscription counted and end by the planning horizon
    where {{ add_months('term_ends.term_end_date', '-term_ends.term_months') }} < term_ends.counting_end
      and term_ends.term_end_date <= {{ add_days(as_of_date(), 400) }}
)

select * from final
