-- The SLA fact has exactly the staged tickets, once each.
with

fact_counts as (

    select
        ticket_id,
        count(*) as fact_rows

    from analytics.fct_ticket_first_response_sla
    group by ticket_id

),

tickets as (

    select distinct ticket_id from staging.stg_tickets

),

final as (

    select
        coalesce(fact_counts.ticket_id, tickets.ticket_id) as ticket_id,
        coalesce(fact_counts.fact_rows, 0) as fact_rows

    from fact_counts
    full outer join tickets
        on fact_counts.ticket_id = tickets.ticket_id
    where
        fact_counts.ticket_id is null
        or tickets.ticket_id is null
        or fact_counts.fact_rows <> 1

)

select * from final
