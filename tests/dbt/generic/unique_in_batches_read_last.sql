{#- Unique across the whole model for every value in the batches the last run read: a
    view over append-only raw rows can only lose uniqueness through the batches a run
    added. `batch_log` lists the batches each run read: its rows without a `_row_number`,
    with the run's `_dbt_loaded_at` (base_usage__event_redeliveries); a run reads every
    batch after the previous run's, so they are one range of batch ids, looked up first
    and written in as constants (the scan skips the rest). When one run read every batch
    (a full build) the whole model is checked with a plain grouping. -#}
{% test unique_in_batches_read_last(model, column_name, batch_log, batch_column='_batch_id') %}
{%- set last = {'runs': 2, 'first': 0, 'last': 0} %}
{%- if execute %}
    {%- set runs = run_query("select count(distinct _dbt_loaded_at) from " ~ batch_log).columns[0].values()[0] %}
    {%- set bounds = run_query("select min(_batch_id), max(_batch_id) from " ~ batch_log ~ " where _row_number is null"
                               ~ " and _dbt_loaded_at = (select max(_dbt_loaded_at) from " ~ batch_log ~ ")").rows[0] %}
    {%- do last.update({'runs': runs, 'first': bounds[0] or 0, 'last': bounds[1] or 0}) %}
{%- endif %}
{%- if last['runs'] > 1 %}
with

last_values as (
    select {{ column_name }} as value
    from {{ model }}
    where {{ batch_column }} between {{ last['first'] }} and {{ last['last'] }}
)

select {{ column_name }} as value, count(*) as copies
from {{ model }}
where {{ column_name }} in (select value from last_values)
group by {{ column_name }}
having count(*) > 1
{%- else %}
select {{ column_name }} as value, count(*) as copies
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{%- endif %}
{% endtest %}
