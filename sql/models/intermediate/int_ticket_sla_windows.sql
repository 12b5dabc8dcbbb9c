-- Per ticket and SLA (sla_kind 'first_response' or 'resolution'), what the SLA clock
-- is measured between: created_at and window_end, which is the fulfilment or, while
-- nothing fulfilled the SLA yet, the run's as_of.
--   * first_response: fulfilled at the earliest of the first response and the first
--     time the ticket was seen resolved (fulfilled_by says which);
--   * resolution: fulfilled when the ticket is Resolved or Closed (at as_of), at its
--     resolved date (else when it was first seen resolved); a reopened ticket is not.
-- target_us is the target of the ticket's contract, customer or priority
-- (int_ticket_sla_targets); fixed_due_at is Atera's own due time when
-- targets_source = 'atera' and Atera sent one.
with

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

first_responses as (

    select * from {{ ref('int_ticket_first_responses') }}

),

resolutions as (

    select * from {{ ref('int_ticket_resolutions') }}

),

targets as (

    select * from {{ ref('int_ticket_sla_targets') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

joined as (

    select
        tickets.ticket_id,
        tickets.created_at,
        tickets.ticket_status,
        targets.raw_ticket_priority,
        targets.ticket_priority,
        targets.priority_rank,
        targets.target_minutes,
        targets.target_source,
        targets.atera_target_due_at,
        targets.resolution_target_minutes,
        targets.resolution_target_source,
        targets.atera_resolution_due_at,
        first_responses.first_response_at,
        first_responses.first_response_source,
        resolutions.first_resolved_at,
        case
            when coalesce(tickets.ticket_status in ('Resolved', 'Closed'), true)
                then coalesce(tickets.resolved_at, resolutions.first_resolved_at)
        end as resolution_at,
        run_parameters.as_of

    from tickets
    cross join run_parameters
    left join first_responses
        on tickets.ticket_id = first_responses.ticket_id
    left join resolutions
        on tickets.ticket_id = resolutions.ticket_id
    left join targets
        on tickets.ticket_id = targets.ticket_id

),

first_response_windows as (

    select
        ticket_id,
        'first_response' as sla_kind,
        raw_ticket_priority,
        ticket_priority,
        priority_rank,
        target_minutes,
        target_source,
        atera_target_due_at as fixed_due_at,
        created_at,
        first_response_at,
        first_response_source,
        {{ atera_sync.least_of('first_response_at', 'first_resolved_at') }} as fulfilled_at,
        case
            when
                first_response_at is not null
                and (first_resolved_at is null or first_response_at <= first_resolved_at)
                then 'first_response'
            when first_resolved_at is not null then 'resolution'
        end as fulfilled_by,
        as_of

    from joined

),

resolution_windows as (

    select
        ticket_id,
        'resolution' as sla_kind,
        raw_ticket_priority,
        ticket_priority,
        priority_rank,
        resolution_target_minutes as target_minutes,
        resolution_target_source as target_source,
        atera_resolution_due_at as fixed_due_at,
        created_at,
        first_response_at,
        first_response_source,
        resolution_at as fulfilled_at,
        case when resolution_at is not null then 'resolution' end as fulfilled_by,
        as_of

    from joined

),

windows as (

    select * from first_response_windows
    union all
    select * from resolution_windows

),

final as (

    select
        ticket_id,
        cast(sla_kind as varchar) as sla_kind,
        raw_ticket_priority,
        ticket_priority,
        priority_rank,
        target_minutes,
        cast(round(target_minutes * 60000000) as bigint) as target_us,
        cast(target_source as varchar) as target_source,
        fixed_due_at,
        created_at,
        first_response_at,
        cast(first_response_source as varchar) as first_response_source,
        fulfilled_at,
        cast(fulfilled_by as varchar) as fulfilled_by,
        coalesce(fulfilled_at, as_of) as window_end,
        as_of

    from windows

)

select * from final
