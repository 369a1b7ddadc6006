{#- One row per account and day, checked where this run could have broken it: the
    account-days it rebuilt (int_account_daily_scope; every day on a full build). Rows
    outside the scope were not touched by this run and were checked when they were
    written. On an engine that rebuilds the grain in full, the whole model is checked. -#}
{% test unique_account_days(model, date_column='date') %}
select m.account_id, m.{{ date_column }}, count(*) as copies
from {{ model }} as m
{%- if account_days_incremental() %}
inner join {{ ref('int_account_daily_scope') }} as scope
    on scope.account_id = m.account_id
   and m.{{ date_column }} >= scope.rebuild_from
{%- endif %}
group by m.account_id, m.{{ date_column }}
having count(*) > 1
{% endtest %}
