-- Per ticket: the first-response due time this project computes from its targets
-- (contract, customer or priority; calendar or business minutes; pauses) against
-- Atera's own FirstResponseDueDate, the difference, and the first reason that
-- applies: 'agrees' (within a minute), 'missing_field' (Atera sent no due time),
-- 'no_target' (no target here), 'pause' (a Pending pause moved our due time),
-- 'business_hours' (our clock counts business hours), 'different_target' (else:
-- Atera's policy gives another target). The reason is a hint, not a proof.
with

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

judgements as (

    select * from {{ ref('int_ticket_sla_judgements') }}
    where sla_kind = 'first_response'

),

targets as (

    select * from {{ ref('int_ticket_sla_targets') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

compared as (

    select
        judgements.ticket_id,
        judgements.ticket_priority,
        judgements.priority_rank,
        judgements.target_minutes,
        targets.table_target_source as target_source,
        judgements.created_at,
        judgements.clock_due_at as our_due_at,
        tickets.atera_first_response_due_at as atera_due_at,
        {{ atera_sync.minutes_between(
            'judgements.created_at', 'tickets.atera_first_response_due_at'
        ) }} as atera_target_minutes,
        {{ atera_sync.minutes_between(
            'judgements.clock_due_at', 'tickets.atera_first_response_due_at'
        ) }} as due_difference_minutes,
        coalesce(judgements.paused_us, 0) > 0 as was_paused,
        run_parameters.business_hours_enabled,
        judgements.as_of

    from judgements
    inner join tickets
        on judgements.ticket_id = tickets.ticket_id
    inner join targets
        on judgements.ticket_id = targets.ticket_id
    cross join run_parameters

),

final as (

    select
        ticket_id,
        cast(ticket_priority as varchar) as ticket_priority,
        cast(priority_rank as integer) as priority_rank,
        cast(target_minutes as double precision) as target_minutes,
        cast(target_source as varchar) as target_source,
        created_at,
        our_due_at,
        atera_due_at,
        cast(atera_target_minutes as double precision) as atera_target_minutes,
        cast(due_difference_minutes as double precision) as due_difference_minutes,
        coalesce(abs(due_difference_minutes) <= 1, false) as due_times_agree,
        cast(
            case
                when atera_due_at is null then 'missing_field'
                when our_due_at is null then 'no_target'
                when abs(due_difference_minutes) <= 1 then 'agrees'
                when was_paused then 'pause'
                when business_hours_enabled then 'business_hours'
                else 'different_target'
            end as varchar
        ) as reason,
        as_of

    from compared

)

select * from final
