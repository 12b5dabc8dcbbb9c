-- The work mart accounts for every work-hour record and every hour of them.
with

records as (

    select
        count(*) as work_hour_records,
        coalesce(sum(duration_seconds), 0) / 3600.0 as total_hours

    from {{ ref('stg_work_hours') }}

),

mart as (

    select
        coalesce(sum(work_hour_records), 0) as work_hour_records,
        coalesce(sum(total_hours), 0) as total_hours,
        coalesce(sum(billable_hours + non_billable_hours), 0) as split_hours

    from {{ ref('work_hours_by_customer_technician_month') }}

),

final as (

    select
        records.work_hour_records as records_in_staging,
        mart.work_hour_records as records_in_mart,
        records.total_hours as hours_in_staging,
        mart.total_hours as hours_in_mart

    from records
    cross join mart
    where
        records.work_hour_records <> mart.work_hour_records
        or abs(records.total_hours - mart.total_hours) > 0.0001
        or abs(mart.split_hours - mart.total_hours) > 0.0001

)

select * from final
