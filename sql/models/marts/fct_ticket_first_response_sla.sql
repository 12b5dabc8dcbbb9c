-- One row per ticket: its first-response SLA as of the run (see docs/sla.md).
with

tickets as (

    select * from {{ ref('stg_tickets') }}

),

sla_windows as (

    select * from {{ ref('int_ticket_sla_windows') }}

),

sla_clock as (

    select * from {{ ref('int_ticket_sla_clock') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

judged as (

    select
        sla_windows.ticket_id,
        sla_windows.ticket_priority,
        sla_windows.raw_ticket_priority,
        sla_windows.priority_rank,
        sla_windows.target_minutes,
        sla_windows.created_at,
        sla_windows.first_response_at,
        sla_windows.first_response_source,
        sla_windows.fulfilled_at,
        sla_windows.fulfilled_by,
        sla_clock.elapsed_us,
        sla_clock.paused_us,
        sla_clock.due_at,
        sla_windows.as_of,
        case
            when sla_windows.target_us is null or sla_clock.elapsed_us is null then 'unknown'
            when sla_clock.elapsed_us <= sla_windows.target_us
                then
                    case when sla_windows.fulfilled_at is null then 'pending' else 'met' end
            else 'breached'
        end as sla_status

    from sla_windows
    left join sla_clock
        on sla_windows.ticket_id = sla_clock.ticket_id

),

final as (

    select
        judged.ticket_id,
        cast(judged.ticket_priority as varchar) as ticket_priority,
        cast(judged.target_minutes as double precision) as target_minutes,
        judged.created_at,
        judged.first_response_at,
        cast(judged.first_response_source as varchar) as first_response_source,
        judged.fulfilled_at,
        case
            when judged.fulfilled_at is not null
                then cast(judged.elapsed_us as double precision) / 60000000
        end as response_minutes,
        cast(judged.sla_status as varchar) as sla_status,
        judged.due_at,
        cast(judged.fulfilled_by as varchar) as fulfilled_by,
        cast(judged.elapsed_us as double precision) / 60000000 as elapsed_minutes,
        cast(judged.paused_us as double precision) / 60000000 as paused_minutes,
        judged.raw_ticket_priority,
        cast(judged.priority_rank as integer) as priority_rank,
        tickets.ticket_status,
        tickets.resolved_at,
        cast(
            {{ dbt.date_trunc(
                'month',
                atera_sync.to_local('judged.created_at', 'run_parameters.time_zone'),
            ) }} as date
        ) as created_month,
        tickets.customer_id,
        tickets.customer_name,
        tickets.technician_contact_id,
        tickets.technician_full_name,
        tickets.end_user_id,
        coalesce(tickets.atera_first_response_due_at, tickets.atera_due_at) as atera_due_at,
        judged.as_of

    from judged
    inner join tickets
        on judged.ticket_id = tickets.ticket_id
    cross join run_parameters

)

select * from final
