-- Account-day state, stage 2 of 3: stage 1 plus the windows the LAER rules test (trial,
-- annual term ending, open renewal / expansion opportunity, recent expansion). Windows
-- are [from, to); a flag's overlapping windows are merged into disjoint spans first, so
-- a day matches at most one span per flag.
{%- set flags = [
    ('trialing', 'is_trialing'),
    ('annual_term_ending', 'is_annual_term_ending'),
    ('open_renewal_opportunity', 'has_open_renewal_opportunity'),
    ('open_expansion_opportunity', 'has_open_expansion_opportunity'),
    ('recent_expansion', 'has_recent_expansion'),
] %}

with

billing as (
    select * from {{ ref('int_account_daily_billing') }}
),

mrr_changes as (
    select
        account_id,
        valid_from as change_date,
        mrr,
        lag(mrr) over (partition by account_id order by valid_from) as previous_mrr
    from {{ ref('int_billing__account_mrr_intervals') }}
),

opportunities as (
    select * from {{ ref('int_crm__opportunity_windows') }}
),

flag_windows as (
    select account_id, 'trialing' as flag, trial_start_date as window_from,
           case when subscription_ended_date < trial_end_date then subscription_ended_date else trial_end_date end as window_to
    from {{ ref('int_billing__trials') }}

    union all

    select account_id, 'annual_term_ending' as flag, renewal_window_start as window_from,
           case when subscription_counting_end < term_end_date then subscription_counting_end else term_end_date end as window_to
    from {{ ref('int_billing__renewal_terms') }}

    union all

    select account_id, 'open_renewal_opportunity' as flag, open_from as window_from, open_to as window_to
    from opportunities
    where opportunity_type = 'renewal'

    union all

    select account_id, 'open_expansion_opportunity' as flag, open_from as window_from, open_to as window_to
    from opportunities
    where opportunity_type = 'expansion'

    union all

    select account_id, 'recent_expansion' as flag, closed_date as window_from,
           {{ add_days('closed_date', var('expansion_lookback_days')) }} as window_to
    from opportunities
    where opportunity_type = 'expansion' and is_won

    union all

    select account_id, 'recent_expansion' as flag, change_date as window_from,
           {{ add_days('change_date', var('expansion_lookback_days')) }} as window_to
    from mrr_changes
    where previous_mrr > 0 and mrr > previous_mrr
),

distinct_flag_windows as (
    {#- equal windows (a won expansion closed on the day of an MRR increase) once: the two
        window passes below must see the rows in the same order, which ties would not fix -#}
    select distinct account_id, flag, window_from, window_to
    from flag_windows
    where window_from is not null and window_to is not null and window_to > window_from
),

flag_windows_ordered as (
    select
        account_id,
        flag,
        window_from,
        window_to,
        max(window_to) over (
            partition by account_id, flag order by window_from, window_to
            rows between unbounded preceding and 1 preceding
        ) as reach_before
    from distinct_flag_windows
),

flag_windows_numbered as (
    select
        *,
        sum(case when reach_before is null or window_from > reach_before then 1 else 0 end) over (
            partition by account_id, flag order by window_from, window_to
            rows between unbounded preceding and current row
        ) as span_number
    from flag_windows_ordered
),

flag_spans as (
    select account_id, flag, min(window_from) as window_from, max(window_to) as window_to
    from flag_windows_numbered
    group by account_id, flag, span_number
),

final as (
    select
        billing.*,
        {%- for flag, column in flags %}
        {{ flag }}_span.account_id is not null as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from billing
    {%- for flag, column in flags %}
    left join flag_spans as {{ flag }}_span
        on {{ flag }}_span.account_id = billing.account_id
       and {{ flag }}_span.flag = '{{ flag }}'
       and billing.date_day >= {{ flag }}_span.window_from
       and billing.date_day < {{ flag }}_span.window_to
    {%- endfor %}
)

select * from final
