-- Per technician, tickets = met + breached + pending + unknown; over all technicians,
-- the tickets and statuses are those of the SLA fact.
{{ sla_rollup_counts_add_up(
    ref('sla_first_response_by_technician'),
    ['technician_contact_id'],
) }}
