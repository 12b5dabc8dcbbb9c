-- First-response SLA compliance per calendar month of creation (in the configured
-- time zone) and technician (null: none), over all priorities: each ticket is judged
-- against its own target. The name is the one on the group's most recently created
-- ticket. Columns as in sla_first_response_by_technician, plus month and as_of.
{{ sla_by_month_and('technician_contact_id', 'technician_full_name') }}
