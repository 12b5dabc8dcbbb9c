-- First-response SLA compliance per assigned technician (the ticket's current
-- TechnicianContactID; null = unassigned), over all priorities: each ticket is
-- judged against its own priority's target. The name is the one on the most
-- recently created ticket. Columns as in sla_first_response_by_priority.
with

first_response_sla as (

    select * from analytics.fct_ticket_first_response_sla

),

aggregated as (

    select
        technician_contact_id,
        arg_max(technician_full_name, created_at) as technician_full_name,
        count(*) as tickets,
        count(*) filter (where sla_status = 'met') as met,
        count(*) filter (where sla_status = 'breached') as breached,
        count(*) filter (where sla_status = 'pending') as pending,
        count(*) filter (where sla_status = 'unknown') as unknown,
        median(response_minutes) as median_response_minutes,
        quantile_cont(response_minutes, 0.9) as p90_response_minutes

    from first_response_sla
    group by technician_contact_id

),

final as (

    select
        technician_contact_id,
        technician_full_name,
        tickets,
        met,
        breached,
        pending,
        unknown,
        round(100.0 * met / nullif(met + breached, 0), 2) as compliance_pct,
        round(median_response_minutes, 2) as median_response_minutes,
        round(p90_response_minutes, 2) as p90_response_minutes

    from aggregated
    order by technician_contact_id nulls last

)

select * from final
