{#- Completeness: every account has a row for every day from its first-seen date to the
    as-of date (count, first and last day per account; with unique_combination_of_columns:
    exactly one row per account-day). One aggregation, whatever the size of the model. -#}
{% test covers_every_account_day(model, date_column='date') %}
with

days as (
    select account_id, count(*) as days, min({{ date_column }}) as first_day, max({{ date_column }}) as last_day
    from {{ model }}
    group by account_id
),

accounts as (
    select account_id, first_seen_date
    from {{ ref('int_accounts') }}
    where first_seen_date <= {{ as_of_date() }}
)

select accounts.account_id, accounts.first_seen_date, days.first_day, days.last_day, days.days
from accounts
left join days
    on days.account_id = accounts.account_id
where days.account_id is null
   or days.first_day <> accounts.first_seen_date
   or days.last_day <> {{ as_of_date() }}
   or days.days <> {{ days_between('accounts.first_seen_date', as_of_date()) }} + 1
{% endtest %}
