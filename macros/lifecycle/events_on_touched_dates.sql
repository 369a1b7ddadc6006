{#- CTEs `events` and `scoped` for the incremental usage models: on a full build every
    event; on an incremental run, every event of the event dates that received events
    in batches loaded since this model's last run (tracked in its max_batch_id), however
    late they arrived. The model then recomputes exactly those dates. -#}
{% macro events_on_touched_dates() -%}
events as (
    select * from {{ ref('stg_usage__events') }}
),

{% if is_incremental() %}
touched_dates as (
    select distinct event_date
    from events
    where _batch_id > (select coalesce(max(max_batch_id), 0) from {{ this }})
),
{% endif %}

scoped as (
    select events.*
    from events
    {% if is_incremental() %}
    where events.event_date in (select event_date from touched_dates)
    {% endif %}
)
{%- endmacro %}
