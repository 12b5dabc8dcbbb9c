-- Every ticket known at as_of (every staged ticket in a live build) is in the SLA fact.
-- (The fact's ticket_id is unique, not null and a staged ticket: tests in schema.yml;
-- together, the fact has exactly the staged tickets, once each.)
with

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

first_response_sla as (

    select * from {{ ref('fct_ticket_first_response_sla') }}

),

final as (

    select tickets.ticket_id

    from tickets
    left join first_response_sla
        on tickets.ticket_id = first_response_sla.ticket_id
    where first_response_sla.ticket_id is null

)

select * from final
