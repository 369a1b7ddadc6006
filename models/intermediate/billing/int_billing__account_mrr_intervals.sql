-- Account MRR as a step function: one row per interval [valid_from, valid_to) over which
-- the account's MRR (sum of its counting items, all its billing customers) is constant.
with

pieces as (
    select * from {{ ref('int_billing__mrr_pieces') }}
),

swept as (
    {{ interval_sweep('pieces', 'account_id', 'valid_from', 'valid_to', 'item_mrr_usd') }}
),

final as (
    select
        account_id,
        valid_from,
        valid_to,
        cast(value as {{ money_precise_type() }}) as mrr
    from swept
)

select * from final
