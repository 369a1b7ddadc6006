{#- Completeness: the model has a row for every account-day of the reference spine
    (with unique_combination_of_columns: exactly one). -#}
{% test covers_every_account_day(model, spine, date_column='date') %}
    select spine.account_id, spine.date_day
    from {{ spine }} as spine
    left join {{ model }} as m
        on m.account_id = spine.account_id
       and m.{{ date_column }} = spine.date_day
    where m.account_id is null
{% endtest %}
