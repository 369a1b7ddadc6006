{#- Invariant: the month-grain health scores (int_account_health_month_end, read by
    kpi_monthly's at-risk MRR) are the daily mart's scores on the same days: every paying
    account-day of `daily` (fct_account_health_daily) on an evaluation day has a month-end
    row with the same score, band and MRR, and every month-end row has its daily row. The
    two compute the usage components differently (from the events at month grain, from
    the member-day rows every day) over one formula (macros/metrics/health_score.sql). -#}
{% test scores_match_daily_health(model, daily) %}
    with month_end as (
        select account_id, eval_date, health_score, health_band, mrr
        from {{ model }}
    ),

    daily as (
        select account_id, date as eval_date, health_score, health_band, mrr
        from {{ daily }}
        where mrr > 0
          and date in (select distinct eval_date from month_end)
    )

    select
        coalesce(month_end.account_id, daily.account_id) as account_id,
        coalesce(month_end.eval_date, daily.eval_date) as eval_date,
        month_end.health_score as month_end_score,
        daily.health_score as daily_score,
        month_end.mrr as month_end_mrr,
        daily.mrr as daily_mrr
    from month_end
    full outer join daily
        on daily.account_id = month_end.account_id
       and daily.eval_date = month_end.eval_date
    where month_end.account_id is null
       or daily.account_id is null
       or month_end.health_score <> daily.health_score
       or month_end.health_band <> daily.health_band
       or month_end.mrr <> daily.mrr
{% endtest %}
