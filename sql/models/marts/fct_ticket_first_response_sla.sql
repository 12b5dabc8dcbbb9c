-- One row per ticket: its first-response SLA as of the run (see docs/sla.md).
with

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

judgements as (

    select * from {{ ref('int_ticket_sla_judgements') }}
    where sla_kind = 'first_response'

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

final as (

    select
        judgements.ticket_id,
        cast(judgements.ticket_priority as varchar) as ticket_priority,
        cast(judgements.target_minutes as double precision) as target_minutes,
        judgements.created_at,
        judgements.first_response_at,
        cast(judgements.first_response_source as varchar) as first_response_source,
        judgements.fulfilled_at,
        case
            when judgements.fulfilled_at is not null
                then cast(judgements.elapsed_us as double precision) / 60000000
        end as response_minutes,
        cast(judgements.sla_status as varchar) as sla_status,
        judgements.due_at,
        cast(judgements.fulfilled_by as varchar) as fulfilled_by,
        cast(judgements.elapsed_us as double precision) / 60000000 as elapsed_minutes,
        cast(judgements.paused_us as double precision) / 60000000 as paused_minutes,
        judgements.raw_ticket_priority,
        cast(judgements.priority_rank as integer) as priority_rank,
        tickets.ticket_status,
        tickets.resolved_at,
        cast(
            {{ dbt.date_trunc(
                'month',
                atera_sync.to_local('judgements.created_at', 'run_parameters.time_zone'),
            ) }} as date
        ) as created_month,
        tickets.customer_id,
        tickets.customer_name,
        tickets.technician_contact_id,
        tickets.technician_full_name,
        tickets.end_user_id,
        coalesce(tickets.atera_first_response_due_at, tickets.atera_due_at) as atera_due_at,
        judgements.as_of,
        cast(judgements.target_source as varchar) as target_source,
        tickets.contract_id,
        cast(tickets.attributes_source as varchar) as attributes_source

    from judgements
    inner join tickets
        on judgements.ticket_id = tickets.ticket_id
    cross join run_parameters

)

select * from final
