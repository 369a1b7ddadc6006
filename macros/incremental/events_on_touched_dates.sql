{#- The incremental usage models recompute exactly the dates that received rows from
    batches loaded since the model's last run (tracked in its max_batch_id), however late
    they arrived (a fixed look-back window would silently miss older ones).

    touched_dates_filter(relation, date_column, batch_column, watermark_column, timestamp_column):
    the `where` condition on `date_column` selecting the dates of `relation` holding rows
    of batches above this model's watermark (max of its `watermark_column`); nothing on a
    full build. The watermark and the dates are looked up before the query runs and
    written into it as constants, so the engine skips the untouched parts of the table
    (DuckDB's zone maps, Spark's file statistics) instead of scanning all history. When
    `date_column` is derived from a stored `timestamp_column` (a view: the engine cannot
    prune on a derived column), the same days are also given as ranges of that column. -#}
{% macro touched_dates_filter(relation, date_column, batch_column, watermark_column='max_batch_id', timestamp_column=none) -%}
    {%- if not is_incremental() -%}
        1 = 1
    {%- elif not execute -%}
        1 = 0
    {%- else -%}
        {%- set watermark = batch_watermark(watermark_column) -%}
        {%- set dates = run_query("select distinct " ~ date_column ~ " from " ~ relation ~ " where " ~ batch_column
                                  ~ " > " ~ watermark ~ " order by " ~ date_column).columns[0].values() -%}
        {%- if dates -%}
            {{ date_column }} in ({% for d in dates %}cast('{{ d }}' as date){{ ", " if not loop.last }}{% endfor %})
            {%- if timestamp_column %} and ({{ timestamp_ranges(timestamp_column, day_runs(dates)) }}){% endif -%}
        {%- else -%}
            1 = 0
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The last batch this incremental model has read: the largest `column` in it (0 when it
    is empty), looked up before the query runs so it can be written in as a constant. -#}
{% macro batch_watermark(column) -%}
    {{ return(run_query("select coalesce(max(" ~ column ~ "), 0) from " ~ this).columns[0].values()[0]) }}
{%- endmacro %}

{#- `column` between the smallest and the largest value it has in the rows of `relation`
    matching `where`, as constants looked up before the query runs: a join on `column` with
    those rows loses nothing to it, and the engine skips the parts of a large table whose
    values lie outside that range (DuckDB's zone maps, Spark's file statistics). Ids that
    grow over time (a sequence, ULID, UUIDv7) leave most of the history outside; random
    ones (UUIDv4) leave nothing outside, and the condition only costs a comparison. `1 = 1`
    when there are no such rows, before execution, and for a value with a quote or
    backslash (engines escape these differently in a literal). -#}
{% macro value_range_filter(column, relation, where) -%}
    {%- set bounds = none -%}
    {%- if execute -%}
        {%- set bounds = run_query("select min(" ~ column ~ "), max(" ~ column ~ ") from " ~ relation
                                   ~ " where " ~ where).rows[0] -%}
    {%- endif -%}
    {%- if bounds is none or bounds[0] is none
          or (bounds | join('')).find("'") >= 0 or (bounds | join('')).find('\\') >= 0 -%}
        1 = 1
    {%- else -%}
        {{ column }} between '{{ bounds[0] }}' and '{{ bounds[1] }}'
    {%- endif -%}
{%- endmacro %}

{#- Sorted days as runs of consecutive days ({first, last}): 1, 2, 3 and 7 March are two. -#}
{% macro day_runs(dates) -%}
    {%- set runs = [] -%}
    {%- for value in dates -%}
        {#- a date, or a datetime / text on engines whose results say so -#}
        {%- set d = modules.datetime.date.fromisoformat((value | string)[:10]) -%}
        {%- if runs and runs[-1]['last'] + modules.datetime.timedelta(days=1) == d -%}
            {%- do runs[-1].update({'last': d}) -%}
        {%- else -%}
            {%- do runs.append({'first': d, 'last': d}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(runs) }}
{%- endmacro %}

{#- `column` on one of the day runs: from the first day's midnight to the midnight after the last. -#}
{% macro timestamp_ranges(column, runs) -%}
    {%- for run in runs -%}
        ({{ column }} >= cast('{{ run['first'] }} 00:00:00' as timestamp) and {{ column }} < cast('{{ run['last'] + modules.datetime.timedelta(days=1) }} 00:00:00' as timestamp))
        {{- " or " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- CTE `scoped` for int_usage__active_members_daily: every event on a full build; on an
    incremental run, every event of the touched event dates (also as ranges of
    occurred_at, which prune raw under the stg_usage__events view); only `columns` (and
    event_date, _batch_id): an engine may materialise `scoped`, read more than once. -#}
{% macro events_on_touched_dates(columns) -%}
scoped as (
    select {{ (columns + ['event_date', '_batch_id']) | unique | join(', ') }}
    from {{ ref('stg_usage__events') }}
    where {{ touched_dates_filter(ref('stg_usage__events'), 'event_date', '_batch_id', timestamp_column='occurred_at') }}
)
{%- endmacro %}

{#- Whether this incremental model (activation, month-end usage) recomputes only what
    changed: an incremental run into a table that already has its `settings_signature`
    column (a table built before it existed is recomputed as a whole, and gains it). -#}
{% macro rescopes_signed_table() -%}
    {{ return(is_incremental() and execute
              and 'settings_signature' in adapter.get_columns_in_relation(this) | map(attribute='name') | list) }}
{%- endmacro %}

{#- touched_dates_filter on stg_usage__events, for a model that keeps the batches it has
    read in `usage_batch_watermark` (the event dates of later batches, also as ranges of
    occurred_at, which prune raw under the staging view). -#}
{% macro usage_touched_dates_filter() -%}
    {{ return(touched_dates_filter(ref('stg_usage__events'), 'event_date', '_batch_id',
                                   watermark_column='usage_batch_watermark', timestamp_column='occurred_at')) }}
{%- endmacro %}

{#- stg_usage__events' `columns` from the day `from_day` on, for a model reading the
    windows it recomputes (`bounded`): a constant looked up before the query, given on
    occurred_at as well so that raw is pruned under the staging view; no event when
    `from_day` is none (nothing to recompute); every event when not `bounded`. -#}
{% macro usage_events_from(columns, bounded, from_day) -%}
    select {{ columns | join(', ') }}
    from {{ ref('stg_usage__events') }}
    {%- if bounded %}
    where {% if from_day is none %}1 = 0{% else %}event_date >= cast('{{ from_day }}' as date)
      and occurred_at >= cast('{{ from_day }} 00:00:00' as timestamp){% endif %}
    {%- endif %}
{%- endmacro %}

{#- For an incremental model that keeps the usage batches it has read in a column
    `usage_batch_watermark`: the CTE body of the highest batch this run saw (on an
    incremental run, the batches above the previous watermark are all on the dates
    `touched` selects; none: a full build saw every batch) ... -#}
{% macro usage_batch_watermark(touched) -%}
    select max(_batch_id) as usage_batch_watermark
    from {{ ref('stg_usage__events') }}
    {%- if touched %}
    where {{ touched }}
    {%- endif %}
{%- endmacro %}

{#- ... and the column itself, read from that CTE (`batch_watermark`): the previous
    watermark when an incremental run saw no new batch. -#}
{% macro usage_batch_watermark_column(incremental) -%}
    {%- if incremental -%}
    coalesce(
        batch_watermark.usage_batch_watermark,
        (select max(usage_batch_watermark) from {{ this }})
    ) as usage_batch_watermark
    {%- else -%}
    batch_watermark.usage_batch_watermark
    {%- endif -%}
{%- endmacro %}
