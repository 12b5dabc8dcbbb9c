-- Hours worked per month (of the record's start, in the configured time zone),
-- customer (of the record's ticket) and technician (who logged the record), split
-- into billable and non-billable, from the individual work-hour records.
with

work_hours as (

    select * from {{ ref('stg_work_hours') }}

),

tickets as (

    select * from {{ ref('stg_tickets') }}

),

technicians as (

    select * from {{ ref('int_technicians') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

records as (

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
        tickets.customer_id,
        tickets.customer_name,
        tickets.created_at as ticket_created_at,
        work_hours.technician_contact_id,
        work_hours.is_billable,
        coalesce(work_hours.duration_seconds, 0) / 3600.0 as hours

    from work_hours
    cross join run_parameters
    left join tickets
        on work_hours.ticket_id = tickets.ticket_id

),

aggregated as (

    select
        month,
        customer_id,
        {{ atera_sync.arg_max('customer_name', 'ticket_created_at') }} as customer_name,
        technician_contact_id,
        sum(case when is_billable then hours else 0 end) as billable_hours,
        sum(case when is_billable then 0 else hours end) as non_billable_hours,
        sum(hours) as total_hours,
        count(*) as work_hour_records

    from records
    group by month, customer_id, technician_contact_id

),

final as (

    select
        aggregated.month,
        aggregated.customer_id,
        cast(aggregated.customer_name as varchar) as customer_name,
        aggregated.technician_contact_id,
        cast(technicians.technician_full_name as varchar) as technician_full_name,
        cast(aggregated.billable_hours as double precision) as billable_hours,
        cast(aggregated.non_billable_hours as double precision) as non_billable_hours,
        cast(aggregated.total_hours as double precision) as total_hours,
        cast(aggregated.work_hour_records as bigint) as work_hour_records,
        run_parameters.as_of

    from aggregated
    cross join run_parameters
    left join technicians
        on aggregated.technician_contact_id = technicians.technician_contact_id
    order by
        aggregated.month nulls last,
        aggregated.customer_id nulls last,
        aggregated.technician_contact_id nulls last

)

select * from final
