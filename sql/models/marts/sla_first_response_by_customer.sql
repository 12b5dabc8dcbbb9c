-- First-response SLA compliance per customer (null = no customer), over all
-- priorities: each ticket is judged against its own priority's target. The name is
-- the one on the most recently created ticket. Columns as in
-- sla_first_response_by_priority.
with

first_response_sla as (

    select * from {{ ref('fct_ticket_first_response_sla') }}

),

rolled_up as (

    {{ sla_rollup(
        'first_response_sla',
        ['customer_id'],
        latest_columns=['customer_name'],
    ) }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

final as (

    select
        rolled_up.customer_id,
        cast(rolled_up.customer_name as varchar) as customer_name,
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
    order by rolled_up.customer_id nulls last

)

select * from final
