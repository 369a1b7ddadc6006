{#- Who and what was active: one row per account, day and active user or used core
    feature. Rolling distinct counts (active users / core features in the last N days)
    and activation are computed from this. Incremental like int_usage__account_daily. -#}
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

users as (
    select
        account_id,
        event_date as activity_date,
        'user' as member_type,
        user_id as member_id,
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
        max(scoped._batch_id) as max_batch_id
    from scoped
    inner join core_features
        on core_features.feature = scoped.feature
    group by scoped.account_id, scoped.event_date, scoped.feature
)

select * from users
union all
select * from features
