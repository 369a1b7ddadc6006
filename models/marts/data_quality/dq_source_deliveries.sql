-- Every entity of the landing contract: delivered or not, how much and when. An entity never
-- delivered names what it leaves empty, in the words of the report ("no usage data delivered").
with

deliveries as (
    select * from {{ ref('int_source_deliveries') }}
),

final as (
    select
        source,
        entity,
        is_delivered,
        cast(files_loaded as bigint) as files_loaded,
        cast(rows_loaded as bigint) as rows_loaded,
        first_delivered_at,
        last_delivered_at,
        case
            when is_delivered then cast(null as {{ dbt.type_string() }})
            else {{ dbt.concat(["'no '", 'source', "' data delivered ('", 'entity', "')'"]) }}
        end as missing_note
    from deliveries
)

select * from final
