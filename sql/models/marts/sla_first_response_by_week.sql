-- First-response SLA compliance per week of creation (weeks start on Monday, in the
-- configured time zone) and priority: the weekly trend. Every week with tickets lists
-- the known priorities; Unknown appears in a week only when it has such tickets.
-- Columns as in sla_first_response_by_month, with week instead of month.
{{ sla_by_period('week') }}
