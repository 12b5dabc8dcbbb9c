-- Resolution SLA compliance per priority, like sla_first_response_by_priority:
-- Critical, High, Medium, Low always, then extra configured priorities, then Unknown
-- when some tickets have no known priority. Priorities without a resolution target
-- count their tickets as 'unknown' (compliance null).
with

resolution_sla as (

    select * from {{ ref('fct_ticket_resolution_sla') }}

),

sla_targets as (

    select * from {{ ref('mart_sla_targets') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

priorities as (

    select
        ticket_priority,
        priority_rank,
        resolution_target_minutes

    from sla_targets
    union all
    select distinct
        ticket_priority,
        priority_rank,
        cast(null as double precision) as resolution_target_minutes

    from resolution_sla
    where ticket_priority = 'Unknown'

),

rolled_up as (

    {{ sla_rollup('resolution_sla', ['ticket_priority'], measure='resolution') }}

),

final as (

    select
        cast(priorities.ticket_priority as varchar) as ticket_priority,
        cast(priorities.resolution_target_minutes as double precision)
            as resolution_target_minutes,
        cast(coalesce(rolled_up.tickets, 0) as bigint) as tickets,
        cast(coalesce(rolled_up.met, 0) as bigint) as met,
        cast(coalesce(rolled_up.breached, 0) as bigint) as breached,
        cast(coalesce(rolled_up.pending, 0) as bigint) as pending,
        cast(coalesce(rolled_up.unknown, 0) as bigint) as unknown,
        rolled_up.compliance_pct,
        rolled_up.median_resolution_minutes,
        rolled_up.p90_resolution_minutes,
        cast(priorities.priority_rank as integer) as priority_rank,
        run_parameters.as_of

    from priorities
    cross join run_parameters
    left join rolled_up
        on priorities.ticket_priority = rolled_up.ticket_priority
    order by priorities.priority_rank

)

select * from final
