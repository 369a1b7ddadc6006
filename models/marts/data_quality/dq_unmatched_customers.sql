-- Billing customers with no known CRM account, and the MRR at stake on the as-of date.
with

customers as (
    select * from {{ ref('int_billing__customer_accounts') }}
    where is_unmatched
),

current_mrr as (
    select
        items.customer_id,
        sum(pieces.item_mrr_usd) as current_mrr
    from {{ ref('int_billing__mrr_pieces') }} as pieces
    inner join {{ ref('int_billing__subscription_items_priced') }} as items
        on items.subscription_item_id = pieces.subscription_item_id
    where pieces.valid_from <= {{ as_of_date() }} and pieces.valid_to > {{ as_of_date() }}
    group by items.customer_id
),

final as (
    select
        customers.customer_id,
        customers.account_id,
        customers.linked_account_id,
        customers.unmatched_reason,
        customers.currency,
        {{ to_money('coalesce(current_mrr.current_mrr, 0)') }} as current_mrr,
        {{ to_money('12 * coalesce(current_mrr.current_mrr, 0)') }} as current_arr
    from customers
    left join current_mrr on current_mrr.customer_id = customers.customer_id
)

select * from final
