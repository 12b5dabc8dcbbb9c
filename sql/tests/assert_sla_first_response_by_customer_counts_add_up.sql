-- Per row, tickets = met + breached + pending + unknown, and the rows add up to the
-- SLA fact's tickets and statuses.
with

by_customer as (

    select * from analytics.sla_first_response_by_customer

),

fact as (

    select
        count(*) as tickets,
        count(*) filter (where sla_status = 'met') as met,
        count(*) filter (where sla_status = 'breached') as breached

    from analytics.fct_ticket_first_response_sla

),

summed as (

    select
        coalesce(sum(tickets), 0) as tickets,
        coalesce(sum(met), 0) as met,
        coalesce(sum(breached), 0) as breached

    from by_customer

),

final as (

    select
        'a row does not add up' as problem,
        count(*) as offending_rows

    from by_customer
    where tickets <> met + breached + pending + unknown
    having count(*) > 0
    union all
    select
        'totals differ from the SLA fact' as problem,
        1 as offending_rows

    from fact
    cross join summed
    where
        fact.tickets <> summed.tickets
        or fact.met <> summed.met
        or fact.breached <> summed.breached

)

select * from final
