{#- The columns together are unique: no two rows share all their values (nulls
    compare equal, as in `group by`). Named and called like dbt_utils'
    unique_combination_of_columns, so that package can replace it. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(',\n    ') }},
    count(*) as rows_with_this_key

from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
