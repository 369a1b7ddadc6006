{#- Blocking: a non-USD item with no usable FX rate (no rate on or before its start
    date). The failing rows name the currency and the date that needs a rate. -#}
{% test no_missing_fx_rate(model) %}
    select
        currency,
        started_date as rate_needed_on,
        count(*) as items_without_rate
    from {{ model }}
    where is_missing_fx_rate
    group by currency, started_date
{% endtest %}
