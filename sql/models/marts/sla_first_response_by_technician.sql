-- First-response SLA compliance per assigned technician (the ticket's current
-- TechnicianContactID; null = unassigned), over all priorities: each ticket is
-- judged against its own priority's target. The name is the one on the most
-- recently created ticket. Columns as in sla_first_response_by_priority.
with

first_response_sla as (

    select * from {{ ref('fct_ticket_first_response_sla') }}

),

rolled_up as (

    {{ sla_rollup(
        'first_response_sla',
        ['technician_contact_id'],
        latest_columns=['technician_full_name'],
    ) }}

),

final as (

    select
        technician_contact_id,
        cast(technician_full_name as varchar) as technician_full_name,
        tickets,
        met,
        breached,
        pending,
        unknown,
        compliance_pct,
        median_response_minutes,
        p90_response_minutes

    from rolled_up
    order by technician_contact_id nulls last

)

select * from final
