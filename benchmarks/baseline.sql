-- The engine's own limit: the headline marts computed by one hand-written DuckDB script
-- straight from the landing files (no ledger, no checks, no lineage, no tests).
-- Parameters (replaced by benchmarks/pipeline.py): {landing}, {as_of}, {seeds} (the dbt project's seeds).
-- `-- mart: <name>` lines split it into the sections timed separately.
set TimeZone = 'UTC';
-- the core features, read from the dbt seed that defines them, for activation, the health
-- score and daily usage
set variable core_features = (select list(feature) from read_csv('{seeds}/core_features.csv'));

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
    select f.account_id, m.month, coalesce(me.mrr, 0) as mrr, f.first_month
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
            else 'flat' end as movement,
       mrr > 0 as is_active, round(12 * mrr, 2) as arr, first_month as cohort_month,
       cast(datediff('month', first_month, month) as integer) as months_since_land,
       account_id like 'unmatched:%' as is_unmatched
from grid window w as (partition by account_id order by month);

-- mart: kpi_monthly
-- Every column of the mart, from the same files: the movements above, trailing-year
-- retention, marketing spend, trials, activation, payments and refunds, and the at-risk
-- MRR from the health score (marts.md) computed on the month-end days only.
create or replace temp table fx_ranges as
select currency, rate_date as valid_from,
       coalesce(lead(rate_date) over (partition by currency order by rate_date), date '9999-12-31') as valid_to, rate
from (select * from fx qualify row_number() over (partition by currency, rate_date order by rate_date) = 1)
where rate > 0 and currency <> 'usd'
union all
select 'usd', date '1900-01-01', date '9999-12-31', 1;

create or replace temp table minor_digits as
select * from (values ('jpy', 0), ('krw', 0)) as t(currency, digits);

create or replace temp table customer_account as
select su.customer_id, coalesce(a.account_id, 'unmatched:' || su.customer_id) as account_id, a.account_id is not null as is_matched
from (select customer_id from customers union select customer_id from subs) as su
left join customers c on c.customer_id = su.customer_id
left join accounts a on a.account_id = c.account_id and coalesce(a.is_deleted, 'False') <> 'True';

create or replace temp table money as
with payments as (
    select * from read_json('{landing}/billing/payments/*.jsonl*', format = 'newline_delimited', filename = true,
                            columns = {payment_id: 'varchar', customer_id: 'varchar', amount: 'bigint', currency: 'varchar',
                                       status: 'varchar', created_at: 'timestamptz'})
    qualify row_number() over (partition by payment_id order by filename desc) = 1
),
refunds as (
    select * from read_csv('{landing}/billing/refunds/*.csv', header = true, all_varchar = true, filename = true)
    qualify row_number() over (partition by refund_id order by filename desc) = 1
),
rows as (
    select customer_id, lower(status) as kind, amount, lower(currency) as currency, cast(created_at as date) as day
    from payments
    union all
    select null, 'refund', cast(amount as bigint), lower(currency), cast(cast(created_at as timestamptz) as date) from refunds
)
select r.customer_id, r.kind, r.day,
       round(r.amount / power(10, coalesce(d.digits, 2)) * f.rate, 2) as amount_usd
from rows r
left join minor_digits d on d.currency = r.currency
left join fx_ranges f on f.currency = r.currency and r.day >= f.valid_from and r.day < f.valid_to;

-- the subscription items that count (the seats of the health score, and trial conversion)
create or replace temp table live_items as
select su.subscription_id, ca.account_id, ca.is_matched, cast(i.quantity as bigint) as quantity, p.is_free = 'True' as is_free,
       cast(cast(i.started_at as timestamptz) as date) as started,
       least(coalesce(cast(cast(i.ended_at as timestamptz) as date), date '9999-12-31'),
             coalesce(cast(cast(su.ended_at as timestamptz) as date), date '9999-12-31')) as ended,
       cast(cast(su.trial_end as timestamptz) as date) as trial_end,
       cast(cast(coalesce(su.trial_start, su.created_at) as timestamptz) as date) as trial_start
from items i join subs su using (subscription_id) join plans p using (plan_id)
join customer_account ca on ca.customer_id = su.customer_id
where su.status <> 'incomplete';

create or replace temp table trials as
select t.subscription_id, t.account_id, t.trial_start, t.trial_end,
       exists (select 1 from live_items i
               where i.subscription_id = t.subscription_id and not i.is_free and i.quantity > 0
                 and greatest(i.started, i.trial_end) < i.ended) as converted
from (select distinct subscription_id, account_id, trial_start, trial_end from live_items where trial_end is not null) t;

create or replace temp table core_features as
select unnest(getvariable('core_features')) as feature;

create or replace temp table activation as
with land as (select account_id, min(s) as land_date from pieces where s < e group by 1),
starts as (
    select account_id, min(d) as window_start
    from (select account_id, land_date as d from land union all select account_id, trial_start from trials)
    group by 1
),
in_window as (
    select s.account_id, count(distinct ev.user_id) as users,
           count(distinct lower(ev.feature)) filter (where lower(ev.feature) in (select feature from core_features)) as features
    from read_parquet('{landing}/usage/events/*.parquet') ev
    join starts s on s.account_id = ev.account_id
     and cast(ev.occurred_at as date) >= s.window_start and cast(ev.occurred_at as date) < s.window_start + 30
    group by 1
)
select land.account_id, land.land_date, coalesce(w.users >= 3 and w.features >= 3, false) as activated
from land left join in_window w using (account_id);

-- the health score on each month's evaluation day (fct_account_health_daily's rule)
create or replace temp table month_usage as
with windows as (
    select m.month, m.eval_date, cast(m.eval_date - cast(i as integer) as date) as day
    from months m, range(0, 30) t(i)
)
select ev.account_id, w.month, count(distinct ev.user_id) as users,
       count(distinct lower(ev.feature)) filter (where lower(ev.feature) in (select feature from core_features)) as features,
       max(cast(ev.occurred_at as date)) as last_event
from read_parquet('{landing}/usage/events/*.parquet') ev
join windows w on w.day = cast(ev.occurred_at as date)
group by 1, 2;

create or replace temp table at_risk as
with paying as (
    select f.account_id, f.month, m.eval_date, f.mrr
    from fct_mrr_monthly f join months m using (month)
    join accounts a on a.account_id = f.account_id and coalesce(a.is_deleted, 'False') <> 'True'
    where f.mrr > 0
),
seats as (
    select p.account_id, p.month, sum(i.quantity) as seats
    from paying p join live_items i on i.account_id = p.account_id and not i.is_free
     and p.eval_date >= i.started and p.eval_date < i.ended
    group by 1, 2
),
responses as (
    select response_id, account_id, cast(responded_at as timestamptz) as responded_at, cast(score as integer) as score
    from read_csv('{landing}/crm/nps_responses/*.csv', header = true, all_varchar = true, filename = true)
    qualify row_number() over (partition by response_id order by filename desc) = 1
),
nps as (  -- the day's last response
    select account_id, cast(responded_at as date) as day, score
    from responses
    qualify row_number() over (partition by account_id, cast(responded_at as date) order by responded_at desc, response_id desc) = 1
),
latest_nps as (
    select p.account_id, p.month, arg_max(n.score, n.day) as score, max(n.day) as day, any_value(p.eval_date) as eval_date
    from paying p join nps n on n.account_id = p.account_id and n.day <= p.eval_date
    group by 1, 2
),
failures as (
    select p.account_id, p.month, count(*) as failed
    from paying p join customer_account ca on ca.account_id = p.account_id
    join money mo on mo.customer_id = ca.customer_id and mo.kind = 'failed'
     and p.eval_date >= mo.day and p.eval_date < mo.day + 30
    group by 1, 2
),
scored as (
    select p.account_id, p.month, p.mrr, round(
        40 * case when coalesce(s.seats, 0) <= 0 then 0 else least(coalesce(u.users, 0) / s.seats, 1) end
      + 20 * coalesce(u.features, 0) / 5
      + 15 * case when u.last_event is null then 0 else greatest(1 - (p.eval_date - u.last_event) / 30, 0) end
      + 15 * case when n.score is not null and p.eval_date < n.day + 180 then n.score / 10 else 0.5 end
      + 10 * case coalesce(f.failed, 0) when 0 then 1 when 1 then 0.5 else 0 end, 2) as score
    from paying p
    left join seats s using (account_id, month)
    left join month_usage u using (account_id, month)
    left join latest_nps n using (account_id, month)
    left join failures f using (account_id, month)
)
select month, sum(mrr) as at_risk_mrr from scored where score < 60 group by 1;

create or replace table kpi_monthly as
with by_month as (
    select month, sum(mrr) as mrr, count(*) filter (where mrr > 0) as active_customers,
           coalesce(sum(mrr_change) filter (where movement = 'new'), 0) as new_mrr,
           coalesce(sum(mrr_change) filter (where movement = 'expansion'), 0) as expansion_mrr,
           coalesce(sum(mrr_change) filter (where movement = 'contraction'), 0) as contraction_mrr,
           coalesce(sum(mrr_change) filter (where movement = 'churn'), 0) as churned_mrr,
           coalesce(sum(mrr_change) filter (where movement = 'reactivation'), 0) as reactivation_mrr,
           sum(mrr_change) as net_new_mrr,
           count(*) filter (where movement = 'new') as new_customers,
           count(*) filter (where movement = 'churn') as churned_customers,
           count(*) filter (where movement = 'reactivation') as reactivated_customers,
           count(*) filter (where 12 * mrr >= 100000) as large_customers,
           coalesce(sum(12 * mrr) filter (where 12 * mrr >= 100000), 0) as large_customer_arr
    from fct_mrr_monthly group by 1
),
ttm as (
    select c.month, sum(c.mrr) as retained, sum(least(c.mrr, y.mrr)) as retained_capped, sum(y.mrr) as year_ago
    from fct_mrr_monthly c join fct_mrr_monthly y on y.account_id = c.account_id and y.month = c.month - interval 12 month
    where y.mrr > 0 group by 1
),
spend as (
    select cast(date_trunc('month', cast(s.month as date)) as date) as month,
           sum(cast(s.amount as bigint) / 100 * f.rate) filter (where s.cost_type = 'marketing') as spend,
           sum(cast(s.amount as bigint) / 100 * f.rate) filter (where s.cost_type = 'sales') as sales
    from (select * replace (coalesce(lower(cost_type), 'marketing') as cost_type)
          from read_csv('{landing}/finance/marketing_spend/*.csv', header = true, all_varchar = true, filename = true,
                        union_by_name = true)
          qualify row_number() over (partition by month, lower(channel), coalesce(lower(cost_type), 'marketing')
                                     order by filename desc) = 1) s
    left join fx_ranges f on f.currency = lower(s.currency)
     and cast(date_trunc('month', cast(s.month as date)) as date) >= f.valid_from
     and cast(date_trunc('month', cast(s.month as date)) as date) < f.valid_to
    group by 1
),
trial_months as (
    select date_trunc('month', trial_end) as month, count(*) as ended, count(*) filter (where converted) as converted
    from trials where trial_end <= date '{as_of}' group by 1
),
activation_months as (
    select date_trunc('month', land_date) as month, count(*) as landed, count(*) filter (where activated) as activated
    from activation where land_date <= date '{as_of}' group by 1
),
money_months as (
    select date_trunc('month', day) as month, coalesce(sum(amount_usd) filter (where kind = 'succeeded'), 0) as collected,
           coalesce(sum(amount_usd) filter (where kind = 'refund'), 0) as refunded
    from money group by 1
),
assembled as (
    select m.month, coalesce(b.mrr, 0) as mrr, coalesce(b.active_customers, 0) as active_customers,
           coalesce(b.new_mrr, 0) as new_mrr, coalesce(b.expansion_mrr, 0) as expansion_mrr,
           coalesce(b.contraction_mrr, 0) as contraction_mrr, coalesce(b.churned_mrr, 0) as churned_mrr,
           coalesce(b.reactivation_mrr, 0) as reactivation_mrr, coalesce(b.net_new_mrr, 0) as net_new_mrr,
           coalesce(b.new_customers, 0) as new_customers, coalesce(b.churned_customers, 0) as churned_customers,
           coalesce(b.reactivated_customers, 0) as reactivated_customers, coalesce(b.large_customers, 0) as large_customers,
           coalesce(b.large_customer_arr, 0) as large_customer_arr, t.retained, t.retained_capped, t.year_ago,
           coalesce(s.spend, 0) as spend, coalesce(s.sales, 0) as sales, coalesce(tr.ended, 0) as trials_ended, coalesce(tr.converted, 0) as trials_converted,
           coalesce(ac.landed, 0) as landed, coalesce(ac.activated, 0) as activated,
           coalesce(mo.collected, 0) as collected, coalesce(mo.refunded, 0) as refunded,
           coalesce(r.at_risk_mrr, 0) as at_risk_mrr, m.eval_date
    from months m
    left join by_month b using (month) left join ttm t using (month) left join spend s using (month)
    left join trial_months tr using (month) left join activation_months ac using (month)
    left join money_months mo using (month) left join at_risk r using (month)
),
rates as (
    select *, churned_customers / nullif(lag(active_customers) over (order by month), 0) as logo_churn_rate,
           (-churned_mrr - contraction_mrr) / nullif(lag(mrr) over (order by month), 0) as gross_mrr_churn_rate,
           (-churned_mrr - contraction_mrr - expansion_mrr - reactivation_mrr) / nullif(lag(mrr) over (order by month), 0)
               as net_mrr_churn_rate,
           mrr / nullif(active_customers, 0) as arpa, (spend + sales) / nullif(new_customers, 0) as cac,
           spend / nullif(new_customers, 0) as cac_marketing,
           sum(churned_customers) over (order by month rows between 11 preceding and current row) as churns_12m,
           date_diff('month', min(month) filter (where mrr > 0) over (order by month), month) as age_months
    from assembled
)
select month, round(mrr, 2) as mrr, round(12 * mrr, 2) as arr, active_customers, round(new_mrr, 2) as new_mrr,
       round(expansion_mrr, 2) as expansion_mrr, round(contraction_mrr, 2) as contraction_mrr,
       round(churned_mrr, 2) as churned_mrr, round(reactivation_mrr, 2) as reactivation_mrr,
       round(net_new_mrr, 2) as net_new_mrr, new_customers, churned_customers, reactivated_customers,
       round(logo_churn_rate, 6) as logo_churn_rate, round(gross_mrr_churn_rate, 6) as gross_mrr_churn_rate,
       round(net_mrr_churn_rate, 6) as net_mrr_churn_rate,
       round(retained / nullif(year_ago, 0), 6) as nrr_ttm, round(retained_capped / nullif(year_ago, 0), 6) as grr_ttm,
       round((new_mrr + expansion_mrr + reactivation_mrr) / nullif(-(churned_mrr + contraction_mrr), 0), 6) as quick_ratio,
       round(arpa, 2) as arpa,
       case when churns_12m >= 10 and age_months >= 12 then
           round(arpa * 0.8 / nullif(avg(logo_churn_rate) over (order by month rows between 11 preceding and current row), 0), 2)
       end as ltv,
       round(cac, 2) as cac, round(cac_marketing, 2) as cac_marketing,
       round(cac / nullif(new_mrr / nullif(new_customers, 0) * 0.8, 0), 6) as cac_payback_months,
       round(trials_converted / nullif(trials_ended, 0), 6) as trial_conversion_rate,
       round(activated / nullif(landed, 0), 6) as activation_rate,
       last_day(month) + 30 <= date '{as_of}' as activation_rate_is_final,
       large_customers, round(large_customers / nullif(active_customers, 0), 6) as large_customer_share,
       round(large_customer_arr / nullif(12 * mrr, 0), 6) as large_customer_arr_share,
       round(refunded / nullif(collected, 0), 6) as refund_rate, round(at_risk_mrr, 2) as at_risk_mrr,
       round(spend, 2) as marketing_spend, round(sales, 2) as sales_spend, trials_ended, landed as landed_accounts,
       round(collected, 2) as collected, round(refunded, 2) as refunded,
       eval_date as measured_on, last_day(month) > date '{as_of}' as is_as_of_month
from rates;

-- mart: int_usage__account_daily
create or replace table usage_account_daily as
-- distinct core features as a bit per feature (a plain aggregate, no distinct set per day)
select account_id, cast(occurred_at as date) as activity_date, count(distinct event_id) as events,
       count(distinct user_id) as active_users,
       bit_count(coalesce(bit_or(cast(1 as bigint) << (list_position(getvariable('core_features'), lower(feature)) - 1)), 0))
           as core_features_used
from read_parquet('{landing}/usage/events/*.parquet')
group by 1, 2;
