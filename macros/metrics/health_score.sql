{#- The health score of marts.md, in one place: its five components, the weighted sum, the
    band, and health_scored, which applies them to a relation of inputs. The two models
    that score — fct_account_health_daily (every account-day) and int_account_health_month_end
    (each month's evaluation day, for kpi_monthly's at-risk MRR, without waiting for the
    account-day grain) — only gather the inputs at their grain and call health_scored; a
    data test (tests/dbt/generic/scores_match_daily_health.sql) holds the two gatherings to
    the same scores. Weights, windows and bands are dbt vars. -#}

{#- `inputs` (a relation or CTE with the columns active_users_30d, licensed_seats,
    core_features_30d, last_event_date, latest_nps_score, failed_payments_30d and the day
    scored, `day_column`) with the score: health_score (0-100, 2 places), health_band and
    the five components as ratios 0-1 (seat_adoption, feature_breadth, recency,
    nps_component, billing_component). -#}
{% macro health_scored(inputs, day_column) -%}
    select
        scored.*,
        {{ health_band('scored.score') }} as health_band
    from (
        select
            components.*,
            {{ health_score('components.seat_adoption_raw', 'components.feature_breadth_raw', 'components.recency_raw',
                            'components.nps_raw', 'components.billing_raw') }} as score
        from (
            select
                {{ inputs }}.*,
                {{ health_seat_adoption(inputs ~ '.active_users_30d', inputs ~ '.licensed_seats') }} as seat_adoption_raw,
                {{ health_feature_breadth(inputs ~ '.core_features_30d', 'core_feature_count.core_features') }} as feature_breadth_raw,
                {{ health_recency(inputs ~ '.last_event_date', inputs ~ '.' ~ day_column) }} as recency_raw,
                {{ health_nps(inputs ~ '.latest_nps_score') }} as nps_raw,
                {{ health_billing(inputs ~ '.failed_payments_30d') }} as billing_raw
            from {{ inputs }}
            cross join (select count(*) as core_features from {{ ref('core_features') }}) as core_feature_count
        ) as components
    ) as scored
{%- endmacro %}

{#- The score's columns as a mart publishes them, from a health_scored relation. -#}
{% macro health_score_columns(scored) -%}
        cast({{ scored }}.score as decimal(5,2)) as health_score,
        {{ scored }}.health_band,
        {{ to_ratio(scored ~ '.seat_adoption_raw') }} as seat_adoption,
        {{ to_ratio(scored ~ '.feature_breadth_raw') }} as feature_breadth,
        {{ to_ratio(scored ~ '.recency_raw') }} as recency,
        {{ to_ratio(scored ~ '.nps_raw') }} as nps_component,
        {{ to_ratio(scored ~ '.billing_raw') }} as billing_component
{%- endmacro %}

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
