{#- What int_usage__rolling_member_counts recomputes on this run, as constants (the reads
    of member rows then skip the older history by zone maps):
    recompute_all: every account from its first day (a full build; no complete earlier
      build; the whole account-day scope rebuilt: settings, code of the chain, as-of moved back);
    otherwise batch_watermark and built_as_of: the last complete build's usage batch
      watermark and as-of date (a member row in a later batch, or dated after that as-of
      date, is new activity), and new_from: the earliest new activity (none when there is none).
    A macro of its own so that unit tests can give the plan (overrides: macros). -#}
{% macro rolling_counts_recompute_plan() -%}
    {%- set plan = {'recompute_all': true, 'new_from': none, 'batch_watermark': none, 'built_as_of': none} -%}
    {%- if is_incremental() and execute and model.resource_type == 'model' -%}
        {%- set watermark = load_relation(account_day_watermark_relation()) -%}
        {%- set partial = run_query(
                "select count(*) from " ~ ref('int_account_daily_scope') ~ " where is_current and not is_full_rebuild"
            ).columns[0].values()[0] -%}
        {%- if watermark is not none and partial > 0 -%}
            {%- set built = run_query("select max(usage_batch_watermark), max(as_of_date) from " ~ watermark).rows[0] -%}
            {%- if built[0] is not none and built[1] is not none -%}
                {%- do plan.update({'recompute_all': false, 'batch_watermark': built[0], 'built_as_of': built[1] | string}) -%}
                {%- set new_from = run_query(
                        "select min(activity_date) from " ~ ref('int_usage__active_members_daily')
                        ~ " where " ~ new_member_activity(plan)).columns[0].values()[0] -%}
                {%- do plan.update({'new_from': (new_from | string) if new_from is not none else none}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(plan) }}
{%- endmacro %}

{#- A member row the plan's earlier build did not count: up to the as-of date, and in a
    later usage batch or dated after that build's as-of date. -#}
{% macro new_member_activity(plan) -%}
    activity_date <= {{ as_of_date() }}
    and (max_batch_id > {{ plan.batch_watermark }} or activity_date > cast('{{ plan.built_as_of }}' as date))
{%- endmacro %}
