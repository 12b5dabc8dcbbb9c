-- Utilisation per technician and calendar month (of the work-hour record's start, in
-- the configured time zone): billable and non-billable hours from the individual
-- work-hour records and the billable share, beside Atera's own billable durations
-- of the tickets assigned to the technician (by the ticket's month of creation).
with

work_hours as (

    select * from {{ ref('stg_work_hours') }}

),

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

billable_durations as (

    select * from {{ ref('stg_billable_durations') }}

),

technicians as (

    select * from {{ ref('int_technicians') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

logged as (

    select
        cast(
            {{ dbt.date_trunc(
                'month',
                atera_sync.to_local(
                    'coalesce(work_hours.started_at, work_hours.ended_at)',
                    'run_parameters.time_zone',
                ),
            ) }} as date
        ) as month,
        work_hours.technician_contact_id,
        sum(
            case when work_hours.is_billable then coalesce(work_hours.duration_seconds, 0) end
        ) / 3600.0 as billable_hours,
        sum(
            case
                when work_hours.is_billable then 0 else coalesce(work_hours.duration_seconds, 0)
            end
        ) / 3600.0 as non_billable_hours,
        count(*) as work_hour_records

    from work_hours
    cross join run_parameters
    where coalesce(work_hours.started_at, work_hours.ended_at) is not null
    group by month, work_hours.technician_contact_id

),

durations as (

    select
        cast(
            {{ dbt.date_trunc(
                'month',
                atera_sync.to_local('tickets.created_at', 'run_parameters.time_zone'),
            ) }} as date
        ) as month,
        tickets.technician_contact_id,
        sum(billable_durations.total_billable_hours) as billable_duration_hours

    from billable_durations
    inner join tickets
        on billable_durations.ticket_id = tickets.ticket_id
    cross join run_parameters
    where tickets.created_at is not null
    group by month, tickets.technician_contact_id

),

combined as (

    select
        coalesce(logged.month, durations.month) as month,
        coalesce(logged.technician_contact_id, durations.technician_contact_id)
            as technician_contact_id,
        coalesce(logged.billable_hours, 0) as billable_hours,
        coalesce(logged.non_billable_hours, 0) as non_billable_hours,
        coalesce(logged.work_hour_records, 0) as work_hour_records,
        coalesce(durations.billable_duration_hours, 0) as billable_duration_hours

    from logged
    full outer join durations
        on
            logged.month = durations.month
            and logged.technician_contact_id is not distinct from durations.technician_contact_id

),

final as (

    select
        combined.month,
        combined.technician_contact_id,
        cast(technicians.technician_full_name as varchar) as technician_full_name,
        cast(combined.billable_hours as double precision) as billable_hours,
        cast(combined.non_billable_hours as double precision) as non_billable_hours,
        cast(combined.billable_hours + combined.non_billable_hours as double precision)
            as total_hours,
        {{ atera_sync.sla_round(
            '100 * combined.billable_hours'
            ~ ' / nullif(combined.billable_hours + combined.non_billable_hours, 0)',
            2,
        ) }} as billable_pct,
        cast(combined.work_hour_records as bigint) as work_hour_records,
        cast(combined.billable_duration_hours as double precision) as billable_duration_hours,
        run_parameters.as_of

    from combined
    cross join run_parameters
    left join technicians
        on combined.technician_contact_id = technicians.technician_contact_id
    order by combined.month, combined.technician_contact_id nulls last

)

select * from final
