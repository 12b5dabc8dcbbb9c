-- First-response SLA compliance per calendar month of creation (in the configured
-- time zone) and technician (null: none), over all priorities: each ticket is judged
-- against its own target. The name is the one on the group's most recently created
-- ticket. Columns as in sla_first_response_by_technician, plus month and as_of.
with

first_response_sla as (

    select * from {{ ref('fct_ticket_first_response_sla') }}
    where created_month is not null

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

rolled_up as (

    {{ sla_rollup(
        'first_response_sla',
        ['created_month', 'technician_contact_id'],
        latest_columns=['technician_full_name'],
    ) }}

),

final as (

    select
        rolled_up.created_month as month,
        rolled_up.technician_contact_id,
        cast(rolled_up.technician_full_name as varchar) as technician_full_name,
        rolled_up.tickets,
        rolled_up.met,
        rolled_up.breached,
        rolled_up.pending,
        rolled_up.unknown,
        rolled_up.compliance_pct,
        rolled_up.median_response_minutes,
        rolled_up.p90_response_minutes,
        run_parameters.as_of

    from rolled_up
    cross join run_parameters
    order by rolled_up.created_month, rolled_up.technician_contact_id nulls last

)

select * from final
