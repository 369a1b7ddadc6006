{#- Turn overlapping intervals [from, to) carrying an additive measure into one series of
    non-overlapping intervals per key with the measure's running total: +value at each
    start, -value at each end, cumulative sum in date order. Used for account MRR, seats,
    rolling active users and rolling core features. The open end is `open_end_date()`.
    Sums of decimals are exact, so totals reconcile to the last digit. -#}
{% macro interval_sweep(relation, key, from_col, to_col, value_col) -%}
    {%- set changes -%}
        select {{ key }}, {{ from_col }} as change_date, {{ value_col }} as delta
        from {{ relation }}
        union all
        select {{ key }}, {{ to_col }} as change_date, -{{ value_col }} as delta
        from {{ relation }}
        where {{ to_col }} < {{ open_end_date() }}
    {%- endset -%}
    {{ change_sweep(changes, key) }}
{%- endmacro %}

{#- The sweep itself, from changes (key, change_date, delta) given as a query: net change
    per key and date, then the running total until the next change. -#}
{% macro change_sweep(changes, key) -%}
    select
        {{ key }},
        change_date as valid_from,
        coalesce(
            lead(change_date) over (partition by {{ key }} order by change_date),
            {{ open_end_date() }}
        ) as valid_to,
        sum(delta) over (
            partition by {{ key }} order by change_date rows between unbounded preceding and current row
        ) as value
    from (
        select {{ key }}, change_date, sum(delta) as delta
        from (
            {{ changes }}
        ) as changes
        group by {{ key }}, change_date
    ) as net_changes
{%- endmacro %}

{% macro open_end_date() -%}
    cast('9999-12-31' as date)
{%- endmacro %}
