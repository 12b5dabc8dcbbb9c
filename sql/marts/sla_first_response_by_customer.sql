-- First-response SLA compliance per customer (null = no customer), over all
-- priorities: each ticket is judged against its own priority's target. The name is
-- the one on the most recently created ticket. Columns as in
-- sla_first_response_by_priority.
with

first_response_sla as (

    select * from analytics.fct_ticket_first_response_sla

),

aggregated as (

    select
        customer_id,
        arg_max(customer_name, created_at) as customer_name,
        count(*) as tickets,
        count(*) filter (where sla_status = 'met') as met,
        count(*) filter (where sla_status = 'breached') as breached,
        count(*) filter (where sla_status = 'pending') as pending,
        count(*) filter (where sla_status = 'unknown') as unknown,
        median(response_minutes) as median_response_minutes,
        quantile_cont(response_minutes, 0.9) as p90_response_minutes

    from first_response_sla
    group by customer_id

),

final as (

    select
        customer_id,
        customer_name,
        tickets,
        met,
        breached,
        pending,
        unknown,
        round(100.0 * met / nullif(met + breached, 0), 2) as compliance_pct,
        round(median_response_minutes, 2) as median_response_minutes,
        round(p90_response_minutes, 2) as p90_response_minutes

    from aggregated
    order by customer_id nulls last

)

select * from final
