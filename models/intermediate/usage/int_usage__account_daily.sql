{#- Usage per account per day. Incremental on event date: a run recomputes exactly the
    event dates that received events in batches loaded since the last run, however late
    those events arrived (a fixed look-back window would silently miss older ones). -#}
{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'),
        partition_by=('activity_date' if target.type == 'spark' else none),
        file_format=('parquet' if target.type == 'spark' else none),
        on_schema_change='fail',
    )
}}

with

{{ events_on_touched_dates() }},

core_features as (
    select feature from {{ ref('core_features') }}
),

daily as (
    select
        scoped.account_id,
        scoped.event_date as activity_date,
        count(*) as events,
        count(distinct scoped.user_id) as active_users,
        count(distinct core_features.feature) as core_features_used,
        max(scoped._batch_id) as max_batch_id
    from scoped
    left join core_features
        on core_features.feature = scoped.feature
    group by scoped.account_id, scoped.event_date
)

select * from daily
