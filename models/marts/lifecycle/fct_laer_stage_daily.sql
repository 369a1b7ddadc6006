-- The LAER stage of every account on every day (first rule that matches wins):
--   churned  had MRR before, MRR now 0
--   renew    an annual-or-longer term ends within 90 days, or an open renewal opportunity
--   expand   an MRR increase or a won expansion opportunity in the last 90 days, or an open
--            expansion opportunity
--   adopt    activated and paying
--   land     paying (not activated), or trialing (marts.md leaves "trialing and already
--            activated" unassigned; it is land: not yet paying, see DECISIONLOG.md)
--   prospect neither paid MRR nor a trial
-- is_stalled: still land, not activated, on or after the day its activation window closed
-- (activation_window_days after its first trial or paid day): a landing that never took.
-- Incremental on DuckDB: rows from each account's rebuild_from are replaced; the day
-- before it, in int_account_daily_state's look-back, gives the first previous_stage.
{{ account_day_mart_config('date') }}
{{ require_complete_account_scope() }}
-- depends_on: {{ ref('int_account_daily_scope') }}

with

state as (
    select * from {{ ref('int_account_daily_state') }}
),

milestones as (
    select account_id, activation_window_start from {{ ref('int_account_milestones') }}
),

staged as (
    select
        state.account_id,
        state.date_day as date,
        state.is_activated,
        {{ add_days('milestones.activation_window_start', var('activation_window_days')) }} as activation_window_closes,
        case
            when state.had_mrr_before and not state.is_paying then 'churned'
            when state.is_annual_term_ending or state.has_open_renewal_opportunity then 'renew'
            when state.has_recent_expansion or state.has_open_expansion_opportunity then 'expand'
            when state.is_activated and state.is_paying then 'adopt'
            when state.is_paying or state.is_trialing then 'land'
            else 'prospect'
        end as laer_stage,
        state.mrr
    from state
    left join milestones
        on milestones.account_id = state.account_id
),

final as (
    select
        account_id,
        date,
        laer_stage,
        lag(laer_stage) over (partition by account_id order by date) as previous_stage,
        coalesce(lag(laer_stage) over (partition by account_id order by date) <> laer_stage, true) as stage_changed,
        {{ to_money('mrr') }} as mrr,
        coalesce(laer_stage = 'land' and not is_activated and date >= activation_window_closes, false) as is_stalled
    from staged
),

rebuilt as (
    select final.*
    from final
    {{- only_rebuilt_account_days('final', 'date') }}
)

select * from rebuilt
