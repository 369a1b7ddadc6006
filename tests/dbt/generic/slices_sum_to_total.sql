{#- Invariant: for every dimension of a long table of slices (month, dimension,
    dimension_value, ...), the slices of each month sum to the total table's row of that
    month in every additive column (a total month without slices must be 0 or null). -#}
{% test slices_sum_to_total(model, total, columns) %}
    with slice_sums as (
        select
            month,
            dimension,
            {% for column in columns %}sum({{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
            {% endfor %}
        from {{ model }}
        group by month, dimension
    ),

    dimensions as (
        select distinct dimension from {{ model }}
    ),

    expected as (
        select totals.*, dimensions.dimension
        from {{ total }} as totals
        cross join dimensions
    )

    select expected.month, expected.dimension
    from expected
    left join slice_sums
        on slice_sums.month = expected.month
       and slice_sums.dimension = expected.dimension
    where
        {% for column in columns %}
        not (
            coalesce(slice_sums.{{ column }}, 0) = coalesce(expected.{{ column }}, 0)
            and (slice_sums.{{ column }} is null) = (expected.{{ column }} is null or slice_sums.month is null)
        ){% if not loop.last %} or{% endif %}
        {% endfor %}
{% endtest %}
