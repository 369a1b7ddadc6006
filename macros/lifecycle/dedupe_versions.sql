{#- CDC: keep the latest version of each record. The greatest `version_column` wins; on a
    tie the later-loaded batch, then the later row of that file. Without a version
    column (append-only facts) a re-delivered record keeps its latest delivery. The raw
    Great Expectations suites, which run before dbt, apply the same rule
    (laer/ingest/rules.py: latest_versions_sql). -#}
{% macro dedupe_versions(relation, key, version_column=none) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key }}
                order by
                    {% if version_column %}{{ version_column }} desc nulls last,{% endif %}
                    _batch_id desc,
                    _row_number desc
            ) as _version_rank
        from {{ relation }}
    ) as versions
    where _version_rank = 1
{%- endmacro %}
