-- The LAER stage of every account on every day (first rule that matches wins):
--   churned  had MRR before, MRR now 0
--   renew    an annual-or-longer term ends within 90 days, or an open renewal opportunity
--   expand   an MRR increase or a won expansion opportunity in the last 90 days, or an open
--            expansion opportunity
--   adopt    activated and paying
--   land     paying (not activated), or trialing (marts.md leaves "trialing and already
--            activated" unassigned; it is land: not yet paying, see DECISIONLOG.md)
--   prospect neither paid MRR nor a trial
-- Incremental on DuckDB: rows from each account's rebuild_from are replaced; the day
-- before it, in int_account_daily_state's look-back, gives the first previous_stage.
{{ account_day_mart_config('date') }}
{{ require_complete_account_scope() }}
-- depends_on: {{ ref('int_account_daily_scope') }}

with

state as (
    select * from {{ ref('int_account_daily_state') }}
),

staged as (
    select
        account_id,
        date_day as date,
        case
            when had_mrr_before and not is_paying then 'churned'
            when is_annual_term_ending or has_open_renewal_opportunity then 'renew'
            when has_recent_expansion or has_open_expansion_opportunity then 'expand'
            when is_activated and is_paying then 'adopt'
            when is_paying or is_trialing then 'land'
            else 'prospect'
        end as laer_stage,
        mrr
    from state
),

final as (
    select
        account_id,
        date,
        laer_stage,
        lag(laer_stage) over (partition by account_id order by date) as previous_stage,
        coalesce(lag(laer_stage) over (partition by account_id order by date) <> laer_stage, true) as stage_changed,
        {{ to_money('mrr') }} as mrr
    from staged
),

rebuilt as (
    select final.*
    from final
    {{- only_rebuilt_account_days('final', 'date') }}
)

select * from rebuilt
