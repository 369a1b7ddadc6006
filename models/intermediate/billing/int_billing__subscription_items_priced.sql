-- Item MRR (marts.md "Money basis"): unit_amount x quantity x (1 - discount/100),
-- normalised to one month (month / interval_count; year / (12 x interval_count);
-- week x 52/12 / interval_count; day x 365/12 / interval_count), 0 for free plans and
-- quantity 0, converted to USD at the rate of the item's started_at date (latest rate on
-- or before it): a later rate change never moves MRR.
with

items as (
    select * from {{ ref('stg_billing__subscription_items') }}
),

subscriptions as (
    select * from {{ ref('stg_billing__subscriptions') }}
),

plans as (
    select * from {{ ref('stg_billing__plans') }}
),

customer_accounts as (
    select * from {{ ref('int_billing__customer_accounts') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

fx as (
    select * from {{ ref('int_billing__fx_rate_ranges') }}
),

joined as (
    select
        items.subscription_item_id,
        items.subscription_id,
        subscriptions.customer_id,
        customer_accounts.account_id,
        customer_accounts.is_unmatched,
        items.plan_id,
        plans.product,
        plans.billing_interval,
        plans.interval_count,
        plans.is_free,
        plans.currency,
        plans.unit_amount_minor,
        items.quantity,
        items.discount_percent,
        {{ minor_units_per_major("currencies.minor_unit_digits") }}
            as minor_units_per_major,
        items.started_at,
        items.ended_at,
        {{ to_date('items.started_at') }} as started_date,
        {{ to_date('items.ended_at') }} as ended_date,
        subscriptions.subscription_status,
        subscriptions.subscription_status = 'incomplete' as is_incomplete,
        case when subscriptions.trial_end is not null
            then {{ to_date('coalesce(subscriptions.trial_start, subscriptions.created_at)') }}
        end as trial_start_date,
        {{ to_date('subscriptions.trial_end') }} as trial_end_date,
        {{ to_date('subscriptions.ended_at') }} as subscription_ended_date,
        -- month-normalisation as an exact fraction: factor_numerator / factor_denominator
        case plans.billing_interval when 'week' then 52 when 'day' then 365 else 1 end as factor_numerator,
        case plans.billing_interval
            when 'month' then plans.interval_count
            else 12 * plans.interval_count
        end as factor_denominator,
        case plans.billing_interval
            when 'year' then 12 * plans.interval_count
            when 'month' then plans.interval_count
        end as term_months
    from items
    inner join subscriptions
        on subscriptions.subscription_id = items.subscription_id
    inner join plans
        on plans.plan_id = items.plan_id
    inner join customer_accounts
        on customer_accounts.customer_id = subscriptions.customer_id
    left join currencies
        on currencies.currency = plans.currency
),

with_fx as (
    select
        joined.*,
        fx.usd_per_unit as fx_rate_to_usd
    from joined
    left join fx
        on fx.currency = joined.currency
       and joined.started_date >= fx.valid_from
       and joined.started_date < fx.valid_to
),

priced as (
    select
        *,
        case
            when is_free or quantity = 0 then cast(0 as double)
            else cast(unit_amount_minor as double) * quantity * (100 - cast(discount_percent as double))
                 * factor_numerator / (100.0 * minor_units_per_major * factor_denominator)
        end as item_mrr_local_exact
    from with_fx
),

final as (
    select
        subscription_item_id,
        subscription_id,
        customer_id,
        account_id,
        is_unmatched,
        plan_id,
        product,
        billing_interval,
        interval_count,
        term_months,
        coalesce(term_months >= {{ var('annual_term_min_months') }}, false) as is_annual_or_longer,
        is_free,
        currency,
        quantity,
        discount_percent,
        started_at,
        ended_at,
        started_date,
        ended_date,
        subscription_status,
        is_incomplete,
        trial_start_date,
        trial_end_date,
        subscription_ended_date,
        fx_rate_to_usd,
        fx_rate_to_usd is null as is_missing_fx_rate,
        {{ round_to('item_mrr_local_exact', 6, money_precise_type()) }} as item_mrr_local,
        {{ round_to('item_mrr_local_exact * cast(fx_rate_to_usd as double)', 6, money_precise_type()) }} as item_mrr_usd
    from priced
)

select * from final
