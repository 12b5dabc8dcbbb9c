-- First-response SLA compliance per calendar month of creation (in the configured
-- time zone) and priority. Every month with tickets lists the known priorities;
-- Unknown appears in a month only when it has such tickets. Tickets without a
-- creation date are left out. Columns as in sla_first_response_by_priority.
with

first_response_sla as (

    select * from {{ ref('fct_ticket_first_response_sla') }}

),

sla_targets as (

    select * from {{ ref('mart_sla_targets') }}

),

dated_tickets as (

    select
        created_month as month,
        ticket_priority,
        priority_rank,
        sla_status,
        response_minutes,
        created_at

    from first_response_sla
    where created_month is not null

),

months as (

    select distinct month
    from dated_tickets

),

grid as (

    select
        months.month,
        sla_targets.ticket_priority,
        sla_targets.priority_rank,
        sla_targets.target_minutes

    from months
    cross join sla_targets
    union all
    select distinct
        month,
        ticket_priority,
        priority_rank,
        cast(null as double precision) as target_minutes

    from dated_tickets
    where ticket_priority = 'Unknown'

),

rolled_up as (

    {{ sla_rollup('dated_tickets', ['month', 'ticket_priority']) }}

),

final as (

    select
        grid.month,
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
        cast(grid.priority_rank as integer) as priority_rank

    from grid
    left join rolled_up
        on
            grid.month = rolled_up.month
            and grid.ticket_priority = rolled_up.ticket_priority
    order by grid.month, grid.priority_rank

)

select * from final
