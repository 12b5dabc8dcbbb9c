{#- The body of a mart of first-response SLA compliance per calendar month of creation
    (in the configured time zone) and one group (`group_column`, e.g. customer_id; null
    is a group of its own), over all priorities: each ticket is judged against its own
    target. `name_column` is taken from the group's most recently created ticket.
    Columns: month, the two columns, those of sla_rollup, as_of. -#}
{% macro sla_by_month_and(group_column, name_column) -%}
with

first_response_sla as (

    select * from {{ ref('fct_ticket_first_response_sla') }}
    where created_month is not null

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

rolled_up as (

    {{ sla_rollup(
        'first_response_sla',
        ['created_month', group_column],
        latest_columns=[name_column],
    ) }}

),

final as (

    select
        rolled_up.created_month as month,
        rolled_up.{{ group_column }},
        cast(rolled_up.{{ name_column }} as varchar) as {{ name_column }},
        rolled_up.tickets,
        rolled_up.met,
        rolled_up.breached,
        rolled_up.pending,
        rolled_up.unknown,
        rolled_up.compliance_pct,
        rolled_up.median_response_minutes,
        rolled_up.p90_response_minutes,
        run_parameters.as_of

    from rolled_up
    cross join run_parameters
    order by rolled_up.created_month, rolled_up.{{ group_column }} nulls last

)

select * from final
{%- endmacro %}
