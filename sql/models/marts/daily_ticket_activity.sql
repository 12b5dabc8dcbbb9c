-- Per day (in the configured time zone) and priority, from the first ticket's day to
-- as_of: tickets opened, first responded to, resolved and closed that day, and the
-- backlog at the end of the day (opened by then and not resolved by then). A ticket
-- leaves the backlog on its resolved date (else the day it was seen Closed) while it
-- is Resolved or Closed now; a reopened ticket counts as open since it was opened.
-- Every day lists every known priority (Unknown only when it has tickets), also on
-- days without activity. Deleted tickets are left out.
with

tickets as (

    select * from {{ ref('fct_tickets') }}
    where not is_deleted and created_at is not null

),

sla_targets as (

    select * from {{ ref('mart_sla_targets') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

local_events as (

    select
        tickets.ticket_priority,
        tickets.priority_rank,
        {{ atera_sync.local_date('tickets.created_at', 'run_parameters.time_zone') }}
            as opened_on,
        {{ atera_sync.local_date('tickets.first_response_at', 'run_parameters.time_zone') }}
            as first_responded_on,
        {{ atera_sync.local_date('tickets.resolved_at', 'run_parameters.time_zone') }}
            as resolved_on,
        {{ atera_sync.local_date('tickets.closed_at', 'run_parameters.time_zone') }}
            as closed_on,
        case
            when coalesce(tickets.ticket_status in ('Resolved', 'Closed'), true)
                then {{ atera_sync.local_date(
                    'coalesce(tickets.resolved_at, tickets.closed_at)',
                    'run_parameters.time_zone',
                ) }}
        end as left_backlog_on

    from tickets
    cross join run_parameters

),

bounds as (

    select
        min(local_events.opened_on) as first_day,
        max({{ atera_sync.local_date('run_parameters.as_of', 'run_parameters.time_zone') }})
            as last_day

    from local_events
    cross join run_parameters

),

days as (

    {{ atera_sync.days_between('bounds', 'first_day', 'last_day') }}

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

    from local_events
    where ticket_priority = 'Unknown'

),

events as (

    select
        ticket_priority,
        opened_on as day,
        'opened' as event
    from local_events
    union all
    select
        ticket_priority,
        first_responded_on as day,
        'first_responded' as event
    from local_events
    where first_responded_on is not null
    union all
    select
        ticket_priority,
        resolved_on as day,
        'resolved' as event
    from local_events
    where resolved_on is not null
    union all
    select
        ticket_priority,
        closed_on as day,
        'closed' as event
    from local_events
    where closed_on is not null
    union all
    select
        ticket_priority,
        left_backlog_on as day,
        'left_backlog' as event
    from local_events
    where left_backlog_on is not null

),

counted as (

    select
        day,
        ticket_priority,
        {{ atera_sync.count_where("event = 'opened'") }} as opened,
        {{ atera_sync.count_where("event = 'first_responded'") }} as first_responded,
        {{ atera_sync.count_where("event = 'resolved'") }} as resolved,
        {{ atera_sync.count_where("event = 'closed'") }} as closed,
        {{ atera_sync.count_where("event = 'left_backlog'") }} as left_backlog

    from events
    group by day, ticket_priority

),

grid as (

    select
        days.day,
        priorities.ticket_priority,
        priorities.priority_rank,
        coalesce(counted.opened, 0) as opened,
        coalesce(counted.first_responded, 0) as first_responded,
        coalesce(counted.resolved, 0) as resolved,
        coalesce(counted.closed, 0) as closed,
        coalesce(counted.left_backlog, 0) as left_backlog

    from days
    cross join priorities
    left join counted
        on
            days.day = counted.day
            and priorities.ticket_priority = counted.ticket_priority

),

final as (

    select
        grid.day,
        cast(grid.ticket_priority as varchar) as ticket_priority,
        cast(grid.opened as bigint) as opened,
        cast(grid.first_responded as bigint) as first_responded,
        cast(grid.resolved as bigint) as resolved,
        cast(grid.closed as bigint) as closed,
        cast(
            sum(grid.opened - grid.left_backlog) over (
                partition by grid.ticket_priority
                order by grid.day
                rows between unbounded preceding and current row
            ) as bigint
        ) as backlog_end_of_day,
        cast(grid.priority_rank as integer) as priority_rank,
        run_parameters.as_of

    from grid
    cross join run_parameters
    order by grid.day, grid.priority_rank

)

select * from final
