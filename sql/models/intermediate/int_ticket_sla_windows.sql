-- Per ticket, what the SLA is measured between: created_at and window_end, which is
-- the fulfilment (first response, else resolution) or, while nothing fulfilled the
-- SLA yet, the run's as_of. Priorities without a target become 'Unknown'.
with

tickets as (

    select * from {{ ref('stg_tickets') }}

),

first_responses as (

    select * from {{ ref('int_ticket_first_responses') }}

),

sla_targets as (

    select * from {{ ref('sla_target_ranks') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

unknown_rank as (

    select max(priority_rank) + 1 as priority_rank from sla_targets

),

final as (

    select
        tickets.ticket_id,
        tickets.ticket_priority as raw_ticket_priority,
        coalesce(sla_targets.ticket_priority, 'Unknown') as ticket_priority,
        coalesce(sla_targets.priority_rank, unknown_rank.priority_rank) as priority_rank,
        sla_targets.target_minutes,
        cast(round(sla_targets.target_minutes * 60000000) as bigint) as target_us,
        tickets.created_at,
        first_responses.first_response_at,
        first_responses.first_response_source,
        coalesce(first_responses.first_response_at, tickets.resolved_at) as fulfilled_at,
        case
            when first_responses.first_response_at is not null then 'first_response'
            when tickets.resolved_at is not null then 'resolution'
        end as fulfilled_by,
        coalesce(
            first_responses.first_response_at,
            tickets.resolved_at,
            run_parameters.as_of
        ) as window_end,
        run_parameters.as_of

    from tickets
    cross join run_parameters
    cross join unknown_rank
    left join first_responses
        on tickets.ticket_id = first_responses.ticket_id
    left join sla_targets
        on tickets.ticket_priority = sla_targets.ticket_priority

)

select * from final
