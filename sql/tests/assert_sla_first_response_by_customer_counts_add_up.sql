-- Per customer, tickets = met + breached + pending + unknown; over all customers, the
-- tickets and statuses are those of the SLA fact.
{{ sla_rollup_counts_add_up(
    ref('sla_first_response_by_customer'),
    ['customer_id'],
) }}
