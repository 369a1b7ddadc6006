{#- Who and what was active: one row per account, day and active user or used core
    feature, with its events. Daily usage, rolling distinct counts (active users / core
    features in the last N days) and activation are computed from this. Incremental on
    event date: a run recomputes exactly the event dates that received events in batches
    loaded since the last run, however late those events arrived (a fixed look-back
    window would silently miss older ones). A full build is written in date order
    (cluster_rows_by), so the daily runs' date filters skip the older row groups. -#}
{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'),
        partition_by=('activity_date' if target.type == 'spark' else none),
        file_format=('parquet' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
    )
}}

with

{{ events_on_touched_dates(columns=['account_id', 'user_id', 'feature']) }},

core_features as (
    select feature from {{ ref('core_features') }}
),

users as (
    select
        account_id,
        event_date as activity_date,
        'user' as member_type,
        user_id as member_id,
        count(*) as events,
        max(_batch_id) as max_batch_id
    from scoped
    group by account_id, event_date, user_id
),

features as (
    select
        scoped.account_id,
        scoped.event_date as activity_date,
        'core_feature' as member_type,
        scoped.feature as member_id,
        count(*) as events,
        max(scoped._batch_id) as max_batch_id
    from scoped
    inner join core_features
        on core_features.feature = scoped.feature
    group by scoped.account_id, scoped.event_date, scoped.feature
),

members as (
    select * from users
    union all
    select * from features
)

select * from members
{{ cluster_rows_by('activity_date') }}
