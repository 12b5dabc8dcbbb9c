-- Per ticket, the SLA targets that apply; the most specific wins: a target for the
-- ticket's contract, else for its customer, else for its priority (inputs
-- scoped_sla_targets, sla_target_ranks, resolution_targets). Priorities without a
-- first-response target become 'Unknown' (no targets at all). target_source and
-- resolution_target_source say which level applied: 'contract', 'customer',
-- 'priority', or 'atera' when run_parameters.targets_source is 'atera' and Atera
-- sent its own due time (FirstResponseDueDate, ClosedTicketDueDate), which then
-- decides the SLA instead of the minutes. table_target_source: the level of
-- target_minutes, whatever targets_source says (for the parity with Atera).
with

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

priority_targets as (

    select * from {{ ref('sla_target_ranks') }}

),

resolution_targets as (

    select * from {{ ref('resolution_targets') }}

),

scoped_targets as (

    select * from {{ ref('scoped_sla_targets') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

unknown_rank as (

    select max(priority_rank) + 1 as priority_rank from priority_targets

),

matched as (

    select
        tickets.ticket_id,
        tickets.ticket_priority as raw_ticket_priority,
        priority_targets.ticket_priority,
        priority_targets.priority_rank,
        priority_targets.target_minutes as priority_target_minutes,
        resolution_targets.resolution_target_minutes as priority_resolution_minutes,
        contract_targets.target_minutes as contract_target_minutes,
        contract_targets.resolution_target_minutes as contract_resolution_minutes,
        customer_targets.target_minutes as customer_target_minutes,
        customer_targets.resolution_target_minutes as customer_resolution_minutes,
        tickets.atera_first_response_due_at,
        tickets.atera_closed_due_at,
        run_parameters.targets_source = 'atera' as use_atera

    from tickets
    cross join run_parameters
    left join priority_targets
        on tickets.ticket_priority = priority_targets.ticket_priority
    left join resolution_targets
        on priority_targets.ticket_priority = resolution_targets.ticket_priority
    left join scoped_targets as contract_targets
        on
            contract_targets.scope = 'contract'
            and tickets.contract_id = contract_targets.scope_id
            and priority_targets.ticket_priority = contract_targets.ticket_priority
    left join scoped_targets as customer_targets
        on
            customer_targets.scope = 'customer'
            and tickets.customer_id = customer_targets.scope_id
            and priority_targets.ticket_priority = customer_targets.ticket_priority

),

final as (

    select
        matched.ticket_id,
        matched.raw_ticket_priority,
        coalesce(matched.ticket_priority, 'Unknown') as ticket_priority,
        coalesce(matched.priority_rank, unknown_rank.priority_rank) as priority_rank,
        coalesce(
            matched.contract_target_minutes,
            matched.customer_target_minutes,
            matched.priority_target_minutes
        ) as target_minutes,
        case
            when matched.use_atera and matched.atera_first_response_due_at is not null
                then 'atera'
            when matched.contract_target_minutes is not null then 'contract'
            when matched.customer_target_minutes is not null then 'customer'
            when matched.priority_target_minutes is not null then 'priority'
        end as target_source,
        case
            when matched.use_atera then matched.atera_first_response_due_at
        end as atera_target_due_at,
        case
            when matched.contract_target_minutes is not null then 'contract'
            when matched.customer_target_minutes is not null then 'customer'
            when matched.priority_target_minutes is not null then 'priority'
        end as table_target_source,
        coalesce(
            matched.contract_resolution_minutes,
            matched.customer_resolution_minutes,
            matched.priority_resolution_minutes
        ) as resolution_target_minutes,
        case
            when matched.use_atera and matched.atera_closed_due_at is not null then 'atera'
            when matched.contract_resolution_minutes is not null then 'contract'
            when matched.customer_resolution_minutes is not null then 'customer'
            when matched.priority_resolution_minutes is not null then 'priority'
        end as resolution_target_source,
        case
            when matched.use_atera then matched.atera_closed_due_at
        end as atera_resolution_due_at

    from matched
    cross join unknown_rank

)

select * from final
