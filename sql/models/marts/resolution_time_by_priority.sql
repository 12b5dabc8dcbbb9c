-- Time from creation to resolution (TicketResolvedDate), in calendar hours, per
-- priority, over the tickets that have a resolved date: median and 90th percentile
-- (linear interpolation). Known priorities are always listed; Unknown when it has
-- resolved tickets. Read it with `order by priority_rank`.
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
        priority_rank

    from sla_targets
    union all
    select distinct
        ticket_priority,
        priority_rank

    from first_response_sla
    where ticket_priority = 'Unknown' and resolved_at is not null and created_at is not null

),

resolved as (

    select
        ticket_priority,
        {{ atera_sync.greatest_of(
            atera_sync.epoch_seconds('resolved_at')
            ~ ' - ' ~ atera_sync.epoch_seconds('created_at'),
            '0',
        ) }} / 3600.0 as resolution_hours

    from first_response_sla
    where resolved_at is not null and created_at is not null

),

aggregated as (

    select
        ticket_priority,
        count(*) as resolved_tickets,
        {{ atera_sync.median('resolution_hours') }} as median_resolution_hours,
        {{ atera_sync.percentile('resolution_hours', 0.9) }} as p90_resolution_hours

    from resolved
    group by ticket_priority

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

final as (

    select
        cast(priorities.ticket_priority as varchar) as ticket_priority,
        cast(coalesce(aggregated.resolved_tickets, 0) as bigint) as resolved_tickets,
        {{ atera_sync.sla_round('aggregated.median_resolution_hours', 2) }}
            as median_resolution_hours,
        {{ atera_sync.sla_round('aggregated.p90_resolution_hours', 2) }}
            as p90_resolution_hours,
        cast(priorities.priority_rank as integer) as priority_rank,
        run_parameters.as_of

    from priorities
    cross join run_parameters
    left join aggregated
        on priorities.ticket_priority = aggregated.ticket_priority
    order by priorities.priority_rank

)

select * from final
