-- One row per work-hour record. The contract's StartDate / EndDate / Duration /
-- IsBillable and the published API's StartWorkHour / EndWorkHour / Billiable [sic]
-- are unified; without Duration the seconds are computed from start and end. The
-- key work_hour_id is set by the loader in both shapes (from the published API's
-- WorkHoursID). Records of tickets that Atera no longer has
-- (atera_raw.deleted_tickets, deleted_at set) are left out.
with

source as (

    select * from {{ source('atera_raw', 'work_hours') }}

),

live as (

    {{ atera_sync.without_deleted_tickets('source') }}

),

renamed as (

    select
        work_hour_id,
        ticket_id,
        technician_contact_id,
        {{ atera_sync.utc('coalesce(start_date, start_work_hour)') }} as started_at,
        {{ atera_sync.utc('coalesce(end_date, end_work_hour)') }} as ended_at,
        duration,
        coalesce(is_billable, billiable, false) as is_billable,
        on_customer_site as is_on_customer_site,
        rate_amount,
        notes,
        _dlt_load_id as dlt_load_id

    from live

),

final as (

    select
        work_hour_id,
        ticket_id,
        technician_contact_id,
        started_at,
        ended_at,
        coalesce(
            cast(duration as double precision),
            {{ atera_sync.epoch_seconds('ended_at') }}
            - {{ atera_sync.epoch_seconds('started_at') }}
        ) as duration_seconds,
        is_billable,
        is_on_customer_site,
        rate_amount,
        notes,
        dlt_load_id

    from renamed

)

select * from final
