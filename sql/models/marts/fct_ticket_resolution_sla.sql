-- One row per ticket: its resolution SLA as of the run (see docs/sla.md). A ticket is
-- resolved when it is Resolved or Closed, at its resolved date; a reopened ticket is
-- open again. Targets per priority (or customer, contract) only where configured, or
-- Atera's ClosedTicketDueDate with targets_source = 'atera'; otherwise the status is
-- 'unknown'. Same calendar, pause and point-in-time rules as the first-response SLA.
with

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

resolutions as (

    select * from {{ ref('int_ticket_resolutions') }}

),

judgements as (

    select * from {{ ref('int_ticket_sla_judgements') }}
    where sla_kind = 'resolution'

),

final as (

    select
        judgements.ticket_id,
        cast(judgements.ticket_priority as varchar) as ticket_priority,
        cast(judgements.priority_rank as integer) as priority_rank,
        cast(judgements.target_minutes as double precision) as resolution_target_minutes,
        cast(judgements.target_source as varchar) as target_source,
        judgements.created_at,
        judgements.fulfilled_at as resolved_at,
        resolutions.first_resolved_at,
        cast(resolutions.reopen_count as integer) as reopen_count,
        case
            when judgements.fulfilled_at is not null
                then cast(judgements.elapsed_us as double precision) / 60000000
        end as resolution_minutes,
        cast(judgements.sla_status as varchar) as sla_status,
        judgements.due_at,
        cast(judgements.elapsed_us as double precision) / 60000000 as elapsed_minutes,
        cast(judgements.paused_us as double precision) / 60000000 as paused_minutes,
        tickets.ticket_status,
        tickets.customer_id,
        tickets.customer_name,
        tickets.contract_id,
        tickets.technician_contact_id,
        tickets.technician_full_name,
        tickets.atera_closed_due_at,
        judgements.as_of

    from judgements
    inner join tickets
        on judgements.ticket_id = tickets.ticket_id
    left join resolutions
        on judgements.ticket_id = resolutions.ticket_id

)

select * from final
