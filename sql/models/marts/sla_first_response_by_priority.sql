-- First-response SLA compliance per priority: Critical, High, Medium, Low (always,
-- even without tickets), then any extra configured priority, then Unknown (only when
-- some tickets have no or an unknown priority). Read it with `order by priority_rank`.
-- The counts and measures are those of the sla_rollup macro: compliance_pct =
-- 100 * met / (met + breached), null when both are 0; the response percentiles are
-- over the tickets whose SLA was fulfilled (response or resolution).
with

first_response_sla as (

    select * from {{ ref('fct_ticket_first_response_sla') }}

),

sla_targets as (

    select * from {{ ref('mart_sla_targets') }}

),

priorities as (

    select
        ticket_priority,
        priority_rank,
        target_minutes

    from sla_targets
    union all
    select distinct
        ticket_priority,
        priority_rank,
        cast(null as double precision) as target_minutes

    from first_response_sla
    where ticket_priority = 'Unknown'

),

rolled_up as (

    {{ sla_rollup('first_response_sla', ['ticket_priority']) }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

final as (

    select
        cast(priorities.ticket_priority as varchar) as ticket_priority,
        cast(priorities.target_minutes as double precision) as target_minutes,
        cast(coalesce(rolled_up.tickets, 0) as bigint) as tickets,
        cast(coalesce(rolled_up.met, 0) as bigint) as met,
        cast(coalesce(rolled_up.breached, 0) as bigint) as breached,
        cast(coalesce(rolled_up.pending, 0) as bigint) as pending,
        cast(coalesce(rolled_up.unknown, 0) as bigint) as unknown,
        rolled_up.compliance_pct,
        rolled_up.median_response_minutes,
        rolled_up.p90_response_minutes,
        cast(priorities.priority_rank as integer) as priority_rank,
        run_parameters.as_of

    from priorities
    cross join run_parameters
    left join rolled_up
        on priorities.ticket_priority = rolled_up.ticket_priority
    order by priorities.priority_rank

)

select * from final
