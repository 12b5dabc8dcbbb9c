-- One row per ticket: its first-response SLA as of the run (see docs/sla.md).
with

tickets as (

    select * from staging.stg_tickets

),

sla_windows as (

    select * from intermediate.int_ticket_sla_windows

),

sla_clock as (

    select * from intermediate.int_ticket_sla_clock

),

run_parameters as (

    select * from model_inputs.run_parameters

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
        judged.ticket_priority,
        judged.target_minutes,
        judged.created_at,
        judged.first_response_at,
        judged.first_response_source,
        judged.fulfilled_at,
        case
            when judged.fulfilled_at is not null then judged.elapsed_us / 60000000.0
        end as response_minutes,
        judged.sla_status,
        judged.due_at,
        judged.fulfilled_by,
        judged.elapsed_us / 60000000.0 as elapsed_minutes,
        judged.paused_us / 60000000.0 as paused_minutes,
        judged.raw_ticket_priority,
        judged.priority_rank,
        tickets.ticket_status,
        tickets.resolved_at,
        cast(
            date_trunc('month', timezone(run_parameters.time_zone, judged.created_at)) as date
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
