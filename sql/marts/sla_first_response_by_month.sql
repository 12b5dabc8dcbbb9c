-- First-response SLA compliance per calendar month of creation (in the configured
-- time zone) and priority. Every month with tickets lists the known priorities;
-- Unknown appears in a month only when it has such tickets. Tickets without a
-- creation date are left out. Columns as in sla_first_response_by_priority.
with

first_response_sla as (

    select * from analytics.fct_ticket_first_response_sla

),

sla_targets as (

    select * from analytics.sla_targets

),

months as (

    select distinct created_month as month
    from first_response_sla
    where created_month is not null

),

grid as (

    select
        months.month,
        sla_targets.ticket_priority,
        sla_targets.priority_rank,
        sla_targets.target_minutes

    from months
    cross join sla_targets
    union all
    select distinct
        created_month as month,
        ticket_priority,
        priority_rank,
        cast(null as double) as target_minutes

    from first_response_sla
    where ticket_priority = 'Unknown' and created_month is not null

),

aggregated as (

    select
        created_month as month,
        ticket_priority,
        count(*) as tickets,
        count(*) filter (where sla_status = 'met') as met,
        count(*) filter (where sla_status = 'breached') as breached,
        count(*) filter (where sla_status = 'pending') as pending,
        count(*) filter (where sla_status = 'unknown') as unknown,
        median(response_minutes) as median_response_minutes,
        quantile_cont(response_minutes, 0.9) as p90_response_minutes

    from first_response_sla
    where created_month is not null
    group by created_month, ticket_priority

),

final as (

    select
        grid.month,
        grid.ticket_priority,
        grid.target_minutes,
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
        grid.priority_rank

    from grid
    left join aggregated
        on
            grid.month = aggregated.month
            and grid.ticket_priority = aggregated.ticket_priority
    order by grid.month, grid.priority_rank

)

select * from final
