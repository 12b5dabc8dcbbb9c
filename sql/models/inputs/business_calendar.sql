-- The SLA clock's calendar: the UTC intervals [open_from, open_to) in which SLA minutes
-- count. From var business_calendar ([[open_from, open_to], ...], ISO 8601, computed by
-- atera-sync from [models] business hours); when it is null the clock always runs
-- (calendar minutes): one interval from 1900-01-01 to 2300-01-01 UTC. An empty list
-- gives no interval: the clock never runs.
with

calendar_rows as (

    select
        calendar_values.open_from,
        calendar_values.open_to

    from (
        values
        {{ atera_sync.business_calendar_values(var('business_calendar')) }}
    ) as calendar_values (open_from, open_to)

),

final as (

    select
        cast(open_from as timestamptz) as open_from,
        cast(open_to as timestamptz) as open_to

    from calendar_rows
    where open_from is not null

)

select * from final
