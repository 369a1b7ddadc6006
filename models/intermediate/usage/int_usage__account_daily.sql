{#- Usage per account per day, summed from int_usage__active_members_daily (one row per
    account, day and user / core feature): every event has a user, so the user rows hold
    all events; no second pass over the events. Incremental like it: a run recomputes the
    days whose member rows came from batches loaded since this model's last run. -#}
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

members as (
    select * from {{ ref('int_usage__active_members_daily') }}
    where {{ touched_dates_filter(ref('int_usage__active_members_daily'), 'activity_date', 'max_batch_id') }}
),

daily as (
    select
        account_id,
        activity_date,
        cast(sum(case when member_type = 'user' then events else 0 end) as bigint) as events,
        count(case when member_type = 'user' then member_id end) as active_users,
        count(case when member_type = 'core_feature' then member_id end) as core_features_used,
        max(max_batch_id) as max_batch_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as _dbt_loaded_at
    from members
    group by account_id, activity_date
)

select * from daily
