-- Per priority, tickets = met + breached + pending + unknown; over all priorities,
-- the tickets are those of the SLA fact; the four known priorities are always there.
with

by_priority as (

    select * from analytics.sla_first_response_by_priority

),

fact as (

    select count(*) as tickets from analytics.fct_ticket_first_response_sla

),

unbalanced_rows as (

    select
        ticket_priority,
        'tickets <> met + breached + pending + unknown' as problem

    from by_priority
    where tickets <> met + breached + pending + unknown

),

totals as (

    select
        'all' as ticket_priority,
        'total tickets differ from the SLA fact' as problem

    from fact
    where fact.tickets <> (select coalesce(sum(by_priority.tickets), 0) from by_priority)

),

missing_priorities as (

    select
        known.ticket_priority,
        'known priority missing' as problem

    from (values ('Critical'), ('High'), ('Medium'), ('Low')) as known (ticket_priority)
    left join by_priority
        on known.ticket_priority = by_priority.ticket_priority
    where by_priority.ticket_priority is null

),

final as (

    select * from unbalanced_rows
    union all
    select * from totals
    union all
    select * from missing_priorities

)

select * from final
