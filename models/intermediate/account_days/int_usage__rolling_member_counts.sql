-- Distinct active users and distinct core features used "in the last N days" as step
-- functions per account: an activity on day a covers days a .. a+N-1; a member's
-- overlapping coverages merge into spans; counting the spans over each day (a sweep of
-- +1 where a span starts, -1 where it ends) gives the rolling distinct count without
-- scanning N days per account-day.
--
-- The step functions are a function of member activity alone (up to the as-of date), so
-- the table keeps them for every account and day, including the tail after the as-of date
-- where members drop out of the window. A daily run recomputes an account only from the
-- first day its activity changed (recomputed_from: its earliest member row in a usage batch
-- loaded since the last complete build, or dated after that build's as-of date), from the
-- activity that reaches that day (from recomputed_from - N + 1); the strategy
-- `step_function_scope` deletes the account's intervals from that day on, ends the one
-- that spans it there, and inserts the new ones. Accounts rebuilt for any other reason
-- (billing, CRM, attributes) read their counts as they are. Everything is recomputed on a
-- full build, without a complete earlier build, and when the whole account-day scope is
-- rebuilt (settings, code of the chain, the as-of date moved back).
{% set window_days = var('health_window_days') %}
{#- on_schema_change: a warehouse built before recomputed_from existed (this model was a
    table of the rebuilt days) gains the column; its first run recomputes everything (the
    chain's code changed) -#}
{{
    config(
        materialized=account_day_materialization(),
        incremental_strategy='step_function_scope',
        on_schema_change='append_new_columns',
    )
}}
-- depends_on: {{ ref('int_account_daily_scope') }}
{%- set plan = rolling_counts_recompute_plan() %}
{%- set new_from = ("cast('" ~ plan.new_from ~ "' as date)") if plan.new_from is not none else add_days(as_of_date(), 1) %}

with

{%- if plan.recompute_all %}

members as (
    -- every account from its first day: all activity, no join
    select account_id, member_type, member_id, activity_date
    from {{ ref('int_usage__active_members_daily') }}
    where activity_date <= {{ as_of_date() }}
),

{%- else %}

recomputed as (
    {#- no new activity: new_from is the day after the as-of date, and nothing is read #}
    select account_id, min(activity_date) as recomputed_from
    from {{ ref('int_usage__active_members_daily') }}
    where {{ new_member_activity(plan) }}
      and activity_date >= {{ new_from }}
    group by account_id
),

members as (
    select members.account_id, members.member_type, members.member_id, members.activity_date
    from {{ ref('int_usage__active_members_daily') }} as members
    inner join recomputed
        on recomputed.account_id = members.account_id
       and members.activity_date >= {{ add_days('recomputed.recomputed_from', 1 - window_days) }}
    where members.activity_date <= {{ as_of_date() }}
      and members.activity_date >= {{ add_days(new_from, 1 - window_days) }}
),

{%- endif %}

ordered as (
    select
        account_id,
        member_type,
        member_id,
        activity_date,
        lag(activity_date) over (
            partition by account_id, member_type, member_id order by activity_date
        ) as previous_activity_date,
        lead(activity_date) over (
            partition by account_id, member_type, member_id order by activity_date
        ) as next_activity_date
    from members
),

changes as (
    {#- a member enters the count on an activity with none in the N days before (a span
        starts), and leaves N days after an activity with none in the N days after (the
        span ends): one window pass, no spans to group -#}
    select account_id, member_type, activity_date as change_date, 1 as delta
    from ordered
    where previous_activity_date is null
       or {{ days_between('previous_activity_date', 'activity_date') }} >= {{ window_days }}

    union all

    select account_id, member_type, {{ add_days('activity_date', window_days) }} as change_date, -1 as delta
    from ordered
    where next_activity_date is null
       or {{ days_between('activity_date', 'next_activity_date') }} >= {{ window_days }}
),

swept as (
    {{ change_sweep('select * from changes', 'account_id, member_type') }}
),

counts as (
    select
        account_id,
        member_type,
        valid_from,
        valid_to,
        cast(value as bigint) as distinct_members
    from swept
),

{%- if plan.recompute_all %}

final as (
    select *, {{ account_day_start_date() }} as recomputed_from
    from counts
)

{%- else %}

final as (
    {#- exact from recomputed_from on: an interval that starts before it starts there #}
    select
        counts.account_id,
        counts.member_type,
        case
            when counts.valid_from < recomputed.recomputed_from then recomputed.recomputed_from
            else counts.valid_from
        end as valid_from,
        counts.valid_to,
        counts.distinct_members,
        recomputed.recomputed_from
    from counts
    inner join recomputed
        on recomputed.account_id = counts.account_id
    where counts.valid_to > recomputed.recomputed_from
)

{%- endif %}

select * from final
