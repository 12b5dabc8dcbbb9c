-- Per month and priority, tickets = met + breached + pending + unknown; over all rows,
-- the tickets and statuses are those of the SLA fact's tickets with a creation date.
{{ sla_rollup_counts_add_up(
    ref('sla_first_response_by_month'),
    ['month', 'ticket_priority'],
    fact_where='created_month is not null',
) }}
