{#- The body of a mart of first-response SLA compliance per period of creation and
    priority (sla_first_response_by_month, sla_first_response_by_week). `period` is
    'month' or 'week' (weeks start on Monday), in the configured time zone; it is
    also the name of the first column. Every period with tickets lists the known
    priorities; Unknown appears only when it has tickets. Tickets without a creation
    date are left out. Columns as in sla_first_response_by_priority, plus as_of. -#}
{% macro sla_by_period(period) -%}
with

first_response_sla as (

    select * from {{ ref('fct_ticket_first_response_sla') }}

),

sla_targets as (

    select * from {{ ref('mart_sla_targets') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

dated_tickets as (

    select
        cast(
            {{ dbt.date_trunc(
                period,
                atera_sync.to_local(
                    'first_response_sla.created_at', 'run_parameters.time_zone'
                ),
            ) }} as date
        ) as {{ period }},
        first_response_sla.ticket_priority,
        first_response_sla.priority_rank,
        first_response_sla.sla_status,
        first_response_sla.response_minutes,
        first_response_sla.created_at

    from first_response_sla
    cross join run_parameters
    where first_response_sla.created_at is not null

),

periods as (

    select distinct {{ period }}
    from dated_tickets

),

grid as (

    select
        periods.{{ period }},
        sla_targets.ticket_priority,
        sla_targets.priority_rank,
        sla_targets.target_minutes

    from periods
    cross join sla_targets
    union all
    select distinct
        {{ period }},
        ticket_priority,
        priority_rank,
        cast(null as double precision) as target_minutes

    from dated_tickets
    where ticket_priority = 'Unknown'

),

rolled_up as (

    {{ sla_rollup('dated_tickets', [period, 'ticket_priority']) }}

),

final as (

    select
        grid.{{ period }},
        cast(grid.ticket_priority as varchar) as ticket_priority,
        cast(grid.target_minutes as double precision) as target_minutes,
        cast(coalesce(rolled_up.tickets, 0) as bigint) as tickets,
        cast(coalesce(rolled_up.met, 0) as bigint) as met,
        cast(coalesce(rolled_up.breached, 0) as bigint) as breached,
        cast(coalesce(rolled_up.pending, 0) as bigint) as pending,
        cast(coalesce(rolled_up.unknown, 0) as bigint) as unknown,
        rolled_up.compliance_pct,
        rolled_up.median_response_minutes,
        rolled_up.p90_response_minutes,
        cast(grid.priority_rank as integer) as priority_rank,
        run_parameters.as_of

    from grid
    cross join run_parameters
    left join rolled_up
        on
            grid.{{ period }} = rolled_up.{{ period }}
            and grid.ticket_priority = rolled_up.ticket_priority
    order by grid.{{ period }}, grid.priority_rank

)

select * from final
{%- endmacro %}
