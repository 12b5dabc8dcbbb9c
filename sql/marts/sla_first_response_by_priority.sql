-- First-response SLA compliance per priority: Critical, High, Medium, Low (always,
-- even without tickets), then any extra configured priority, then Unknown (only when
-- some tickets have no or an unknown priority). Read it with `order by priority_rank`.
-- compliance_pct = 100 * met / (met + breached), null when both are 0; the response
-- percentiles are over the tickets whose SLA was fulfilled (response or resolution).
with

first_response_sla as (

    select * from analytics.fct_ticket_first_response_sla

),

sla_targets as (

    select * from analytics.sla_targets

),

priorities as (

    select
        ticket_priority,
        priority_rank,
        target_minutes

    from sla_targets
    union all
    select distinct
        ticket_priority,
        priority_rank,
        cast(null as double) as target_minutes

    from first_response_sla
    where ticket_priority = 'Unknown'

),

aggregated as (

    select
        ticket_priority,
        count(*) as tickets,
        count(*) filter (where sla_status = 'met') as met,
        count(*) filter (where sla_status = 'breached') as breached,
        count(*) filter (where sla_status = 'pending') as pending,
        count(*) filter (where sla_status = 'unknown') as unknown,
        median(response_minutes) as median_response_minutes,
        quantile_cont(response_minutes, 0.9) as p90_response_minutes

    from first_response_sla
    group by ticket_priority

),

final as (

    select
        priorities.ticket_priority,
        priorities.target_minutes,
        coalesce(aggregated.tickets, 0) as tickets,
        coalesce(aggregated.met, 0) as met,
        coalesce(aggregated.breached, 0) as breached,
        coalesce(aggregated.pending, 0) as pending,
        coalesce(aggregated.unknown, 0) as unknown,
        round(
            100.0 * aggregated.met / nullif(aggregated.met + aggregated.breached, 0), 2
        ) as compliance_pct,
        round(aggregated.median_response_minutes, 2) as median_response_minutes,
        round(aggregated.p90_response_minutes, 2) as p90_response_minutes,
        priorities.priority_rank

    from priorities
    left join aggregated
        on priorities.ticket_priority = aggregated.ticket_priority
    order by priorities.priority_rank

)

select * from final
