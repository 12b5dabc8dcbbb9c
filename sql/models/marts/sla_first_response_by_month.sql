-- First-response SLA compliance per calendar month of creation (in the configured
-- time zone) and priority. Every month with tickets lists the known priorities;
-- Unknown appears in a month only when it has such tickets. Tickets without a
-- creation date are left out. Columns as in sla_first_response_by_priority.
{{ sla_by_period('month') }}
