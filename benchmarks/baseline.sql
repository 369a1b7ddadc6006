-- The engine's own limit: the headline marts computed by one hand-written DuckDB script
-- straight from the landing files (no ledger, no checks, no lineage, no tests).
-- Parameters (replaced by benchmarks/pipeline.py): {landing}, {as_of}.
-- `-- mart: <name>` lines split it into the sections timed separately.
set TimeZone = 'UTC';

-- mart: fct_mrr_monthly

create or replace temp table items as
select * from read_csv('{landing}/billing/subscription_items/*.csv', header = true, all_varchar = true)
qualify row_number() over (partition by subscription_item_id order by cast(updated_at as timestamptz) desc, filename desc) = 1;

create or replace temp table subs as
select * from read_csv('{landing}/billing/subscriptions/*.csv', header = true, all_varchar = true)
qualify row_number() over (partition by subscription_id order by cast(updated_at as timestamptz) desc) = 1;

create or replace temp table plans as
select * from read_csv('{landing}/billing/plans/*.csv', header = true, all_varchar = true)
qualify row_number() over (partition by plan_id order by cast(updated_at as timestamptz) desc) = 1;

create or replace temp table customers as
select * from read_csv('{landing}/billing/customers/*.csv.gz', header = true, all_varchar = true)
qualify row_number() over (partition by customer_id order by cast(updated_at as timestamptz) desc) = 1;

create or replace temp table accounts as
select * from read_csv('{landing}/crm/accounts/*.csv', header = true, all_varchar = true)
qualify row_number() over (partition by account_id order by cast(updated_at as timestamptz) desc) = 1;

create or replace temp table fx as
select lower(currency) as currency, cast(rate_date as date) as rate_date, cast(usd_per_unit as double) as rate
from read_csv('{landing}/billing/fx_rates/*.csv', header = true, all_varchar = true);

create or replace temp table pieces as
with priced as (
    select coalesce(a.account_id, 'unmatched:' || c.customer_id) as account_id,
           cast(cast(i.started_at as timestamptz) as date) as s,
           least(coalesce(cast(cast(i.ended_at as timestamptz) as date), date '9999-12-31'),
                 coalesce(cast(cast(su.ended_at as timestamptz) as date), date '9999-12-31')) as e,
           cast(cast(su.trial_end as timestamptz) as date) as te,
           case when p.is_free = 'True' or cast(i.quantity as bigint) = 0 then 0
                else cast(p.unit_amount as double) * cast(i.quantity as bigint) * (100 - coalesce(cast(i.discount_percent as double), 0))
                     / 100 / 100 / case p.billing_interval when 'year' then 12 * cast(p.interval_count as int) else cast(p.interval_count as int) end
                     * coalesce((select rate from fx where fx.currency = lower(p.currency) and fx.rate_date <= cast(cast(i.started_at as timestamptz) as date)
                                 order by rate_date desc limit 1), 1) end as mrr
    from items i join subs su using (subscription_id) join plans p using (plan_id)
    left join customers c on c.customer_id = su.customer_id
    left join accounts a on a.account_id = c.account_id and coalesce(a.is_deleted, 'False') <> 'True'
    where su.status <> 'incomplete'
)
select account_id, greatest(s, coalesce(te, s)) as s, e, round(mrr, 6) as mrr from priced where mrr > 0;

create or replace temp table months as
select m as month, least(last_day(m), date '{as_of}') as eval_date
from (select unnest(generate_series(date_trunc('month', (select min(s) from pieces)), date '{as_of}', interval 1 month))::date as m);

create or replace table fct_mrr_monthly as
with me as (
    select p.account_id, m.month, round(sum(p.mrr), 2) as mrr
    from pieces p join months m on m.eval_date >= p.s and m.eval_date < p.e group by 1, 2
),
firsts as (select account_id, min(month) as first_month from me where mrr > 0 group by 1),
grid as (
    select f.account_id, m.month, coalesce(me.mrr, 0) as mrr
    from firsts f join months m on m.month >= f.first_month
    left join me on me.account_id = f.account_id and me.month = m.month
)
select account_id, month, mrr,
       coalesce(lag(mrr) over w, 0) as previous_mrr, mrr - coalesce(lag(mrr) over w, 0) as mrr_change,
       case when coalesce(lag(mrr) over w, 0) = 0 and mrr > 0 and row_number() over w = 1 then 'new'
            when coalesce(lag(mrr) over w, 0) = 0 and mrr > 0 then 'reactivation'
            when coalesce(lag(mrr) over w, 0) > 0 and mrr = 0 then 'churn'
            when coalesce(lag(mrr) over w, 0) > 0 and mrr > lag(mrr) over w then 'expansion'
            when coalesce(lag(mrr) over w, 0) > 0 and mrr < lag(mrr) over w then 'contraction'
            else 'flat' end as movement
from grid window w as (partition by account_id order by month);

-- mart: kpi_monthly
create or replace table kpi_monthly as
select month, sum(mrr) as mrr, 12 * sum(mrr) as arr, count(*) filter (where mrr > 0) as active_customers,
       sum(mrr_change) filter (where movement = 'new') as new_mrr,
       sum(mrr_change) filter (where movement = 'expansion') as expansion_mrr,
       sum(mrr_change) filter (where movement = 'contraction') as contraction_mrr,
       sum(mrr_change) filter (where movement = 'churn') as churned_mrr,
       sum(mrr_change) filter (where movement = 'reactivation') as reactivation_mrr,
       count(*) filter (where movement = 'churn') as churned_customers
from fct_mrr_monthly group by 1;

-- mart: int_usage__account_daily
create or replace table usage_account_daily as
select account_id, cast(occurred_at as date) as activity_date, count(distinct event_id) as events,
       count(distinct user_id) as active_users
from read_parquet('{landing}/usage/events/*.parquet')
group by 1, 2;
