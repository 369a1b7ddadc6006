-- Payments and refunds in USD at the rate of their own date, per account.
with

payments as (
    select * from {{ ref('stg_billing__payments') }}
),

refunds as (
    select * from {{ ref('stg_billing__refunds') }}
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

money as (
    select
        'payment' as money_kind,
        payments.payment_id as money_id,
        payments.customer_id,
        payments.payment_status,
        payments.amount_minor,
        payments.currency,
        payments.created_at
    from payments

    union all

    select
        'refund' as money_kind,
        refunds.refund_id as money_id,
        payments.customer_id,
        'refunded' as payment_status,
        refunds.amount_minor,
        refunds.currency,
        refunds.created_at
    from refunds
    left join payments
        on payments.payment_id = refunds.payment_id
),

final as (
    select
        money.money_kind,
        money.money_id,
        money.customer_id,
        coalesce(customer_accounts.account_id, 'unmatched:' || coalesce(money.customer_id, 'unknown')) as account_id,
        money.payment_status,
        money.currency,
        {{ to_date('money.created_at') }} as money_date,
        money.created_at,
        fx.usd_per_unit as fx_rate_to_usd,
        {{ to_money(
            'cast(money.amount_minor as double) / '
            ~ minor_units_per_major("currencies.minor_unit_digits")
            ~ ' * cast(fx.usd_per_unit as double)') }} as amount_usd
    from money
    left join customer_accounts
        on customer_accounts.customer_id = money.customer_id
    left join currencies
        on currencies.currency = money.currency
    left join fx
        on fx.currency = money.currency
       and {{ to_date('money.created_at') }} >= fx.valid_from
       and {{ to_date('money.created_at') }} < fx.valid_to
)

select * from final
