-- Per priority, tickets = met + breached + pending + unknown; over all priorities,
-- the tickets and statuses are those of the SLA fact.
{{ sla_rollup_counts_add_up(
    ref('sla_first_response_by_priority'),
    ['ticket_priority'],
) }}
