-- The days on which each item counts towards MRR, as half-open date ranges:
-- started_at <= d < ended_at, not inside the subscription's trial
-- (trial_start <= d < trial_end), and before the subscription's ended_at. History follows
-- items, trials and ended_at, never today's status, except that an incomplete
-- subscription never counts. A trial in the middle of an item splits it in two pieces.
with

items as (
    select * from {{ ref('int_billing__subscription_items_priced') }}
    where not is_incomplete
      and item_mrr_usd > 0
),

bounded as (
    select
        *,
        case
            when coalesce(ended_date, {{ open_end_date() }}) < coalesce(subscription_ended_date, {{ open_end_date() }})
                then coalesce(ended_date, {{ open_end_date() }})
            else coalesce(subscription_ended_date, {{ open_end_date() }})
        end as counting_end
    from items
),

pieces as (
    -- no trial
    select subscription_item_id, subscription_id, account_id, item_mrr_usd, is_annual_or_longer, term_months,
           started_date as valid_from, counting_end as valid_to
    from bounded
    where trial_end_date is null

    union all

    -- before the trial
    select subscription_item_id, subscription_id, account_id, item_mrr_usd, is_annual_or_longer, term_months,
           started_date as valid_from,
           case when trial_start_date < counting_end then trial_start_date else counting_end end as valid_to
    from bounded
    where trial_end_date is not null

    union all

    -- after the trial
    select subscription_item_id, subscription_id, account_id, item_mrr_usd, is_annual_or_longer, term_months,
           case when trial_end_date > started_date then trial_end_date else started_date end as valid_from,
           counting_end as valid_to
    from bounded
    where trial_end_date is not null
)

select * from pieces
where valid_from < valid_to
