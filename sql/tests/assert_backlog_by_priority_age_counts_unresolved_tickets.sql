-- The backlog holds each unresolved ticket of the SLA fact exactly once.
with

backlog as (

    select coalesce(sum(tickets), 0) as tickets
    from {{ ref('backlog_by_priority_age') }}

),

unresolved as (

    select count(*) as tickets
    from {{ ref('fct_ticket_first_response_sla') }}
    where coalesce(ticket_status not in ('Resolved', 'Closed'), resolved_at is null)

),

final as (

    select
        backlog.tickets as tickets_in_backlog,
        unresolved.tickets as unresolved_tickets

    from backlog
    cross join unresolved
    where backlog.tickets <> unresolved.tickets

)

select * from final
