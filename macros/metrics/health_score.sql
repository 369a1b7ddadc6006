{#- The health score of marts.md, in one place: its five components, the weighted sum and
    the band. fct_account_health_daily scores every account-day; int_account_health_month_end
    scores each month's evaluation day (kpi_monthly's at-risk MRR) straight from the events,
    without the account-day grain. A data test (tests/dbt/generic/scores_match_daily_health.sql)
    holds the two to the same scores. Weights, windows and bands are dbt vars. -#}

{#- active users in the window ÷ licensed seats, capped at 1; 0 without seats -#}
{% macro health_seat_adoption(active_users, licensed_seats) -%}
    case
        when {{ licensed_seats }} <= 0 then 0.0
        when {{ active_users }} >= {{ licensed_seats }} then 1.0
        else cast({{ active_users }} as double) / {{ licensed_seats }}
    end
{%- endmacro %}

{#- distinct core features used in the window ÷ core features (0 when the seed is empty) -#}
{% macro health_feature_breadth(core_features_used, core_features) -%}
    case
        when {{ core_features }} = 0 then 0.0
        else cast({{ core_features_used }} as double) / {{ core_features }}
    end
{%- endmacro %}

{#- 1 on the day of the last event, falling linearly to 0 at health_recency_zero_days -#}
{% macro health_recency(last_event_date, day) -%}
    case
        when {{ last_event_date }} is null then 0.0
        when {{ days_between(last_event_date, day) }} >= {{ var('health_recency_zero_days') }} then 0.0
        else 1.0 - cast({{ days_between(last_event_date, day) }} as double) / {{ var('health_recency_zero_days') }}
    end
{%- endmacro %}

{#- the latest NPS score still valid ÷ 10; health_nps_default without one -#}
{% macro health_nps(latest_score) -%}
    coalesce(cast({{ latest_score }} as double) / 10, {{ var('health_nps_default') }})
{%- endmacro %}

{#- 1 without failed payments in the window, 0.5 with one, 0 with two or more -#}
{% macro health_billing(failed_payments) -%}
    case
        when coalesce({{ failed_payments }}, 0) = 0 then 1.0
        when {{ failed_payments }} = 1 then 0.5
        else 0.0
    end
{%- endmacro %}

{#- the weighted sum of the components, rounded to 2 places -#}
{% macro health_score(seat_adoption, feature_breadth, recency, nps, billing) -%}
    {{ round_to(
        var('health_weight_seat_adoption') ~ ' * (' ~ seat_adoption ~ ')'
        ~ ' + ' ~ var('health_weight_feature_breadth') ~ ' * (' ~ feature_breadth ~ ')'
        ~ ' + ' ~ var('health_weight_recency') ~ ' * (' ~ recency ~ ')'
        ~ ' + ' ~ var('health_weight_nps') ~ ' * (' ~ nps ~ ')'
        ~ ' + ' ~ var('health_weight_billing') ~ ' * (' ~ billing ~ ')',
        2, 'decimal(5,2)') }}
{%- endmacro %}

{% macro health_band(score) -%}
    case
        when {{ score }} >= {{ var('health_band_green_min') }} then 'green'
        when {{ score }} >= {{ var('health_band_yellow_min') }} then 'yellow'
        else 'red'
    end
{%- endmacro %}

{#- "in the last N days" (health_window_days): `day` is `activity_date` or one of the
    N - 1 days after it -#}
{% macro in_health_window(activity_date, day) -%}
    {{ day }} >= {{ activity_date }} and {{ day }} < {{ add_days(activity_date, var('health_window_days')) }}
{%- endmacro %}

{#- Per account, the NPS score each day reads: the day's last response (latest
    responded_at, then response_id) is valid from its day until the account's next
    response or health_nps_lookback_days after it, whichever comes first. Disjoint day
    ranges (account_id, score, valid_from, valid_to exclusive), to be joined as a range. -#}
{% macro nps_score_ranges(responses) -%}
    select
        account_id,
        score,
        valid_from,
        case when next_response_date < expires_on then next_response_date else expires_on end as valid_to
    from (
        select
            account_id,
            score,
            responded_date as valid_from,
            coalesce(lead(responded_date) over (partition by account_id order by responded_date), {{ open_end_date() }}) as next_response_date,
            {{ add_days('responded_date', var('health_nps_lookback_days')) }} as expires_on
        from (
            select
                account_id,
                {{ to_date('responded_at') }} as responded_date,
                score,
                row_number() over (
                    partition by account_id, {{ to_date('responded_at') }} order by responded_at desc, response_id desc
                ) as rank_in_day
            from {{ responses }}
        ) as ranked
        where rank_in_day = 1
    ) as validity
{%- endmacro %}
