-- One row per work-hour record. The contract's StartDate / EndDate / Duration /
-- IsBillable and the published API's StartWorkHour / EndWorkHour / Billiable [sic]
-- are unified; without Duration the seconds are computed from start and end. The
-- key work_hour_id is set by the loader in both shapes (from the published API's
-- WorkHoursID).
with

source as (

    select * from raw_contract.work_hours

),

renamed as (

    select
        cast(work_hour_id as bigint) as work_hour_id,
        cast(ticket_id as bigint) as ticket_id,
        cast(technician_contact_id as bigint) as technician_contact_id,
        cast(coalesce(start_date, start_work_hour) as timestamptz) as started_at,
        cast(coalesce(end_date, end_work_hour) as timestamptz) as ended_at,
        cast(duration as bigint) as duration,
        coalesce(cast(is_billable as boolean), cast(billiable as boolean), false) as is_billable,
        cast(on_customer_site as boolean) as is_on_customer_site,
        cast(rate_amount as double) as rate_amount,
        notes,
        _dlt_load_id as dlt_load_id

    from source

),

final as (

    select
        work_hour_id,
        ticket_id,
        technician_contact_id,
        started_at,
        ended_at,
        coalesce(
            cast(duration as double),
            epoch(ended_at) - epoch(started_at)
        ) as duration_seconds,
        is_billable,
        is_on_customer_site,
        rate_amount,
        notes,
        dlt_load_id

    from renamed

)

select * from final
