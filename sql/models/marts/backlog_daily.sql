-- The backlog at the end of each day (in the configured time zone), by priority and
-- age bucket, from the sync history: from the day of the first sync to as_of. A
-- ticket is in the backlog at the end of a day when the latest status a sync saw up
-- to then is neither Resolved nor Closed; its priority is the one that sync saw and
-- its age is counted from creation to the end of the day. Tickets created and
-- resolved between two syncs, and statuses held only between two syncs, are never
-- seen. Every day lists every known priority and age bucket.
with

snapshots as (

    select * from {{ ref('int_status_snapshots_as_of') }}

),

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

sla_targets as (

    select * from {{ ref('mart_sla_targets') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

age_buckets as (

    select * from (
        values
        {{ atera_sync.age_bucket_values() }}
    ) as buckets (age_bucket_rank, age_bucket, min_age_days, max_age_days)  -- noqa: AL05

),

observations as (

    select
        snapshots.ticket_id,
        snapshots.ticket_status,
        coalesce(sla_targets.ticket_priority, 'Unknown') as ticket_priority,
        snapshots.observed_at as valid_from,
        lead(snapshots.observed_at) over (
            partition by snapshots.ticket_id order by snapshots.observed_at
        ) as valid_to,
        tickets.created_at

    from snapshots
    inner join tickets
        on snapshots.ticket_id = tickets.ticket_id
    left join sla_targets
        on snapshots.ticket_priority = sla_targets.ticket_priority

),

bounds as (

    select
        min({{ atera_sync.local_date('observations.valid_from', 'run_parameters.time_zone') }})
            as first_day,
        max({{ atera_sync.local_date('run_parameters.as_of', 'run_parameters.time_zone') }})
            as last_day

    from observations
    cross join run_parameters

),

days as (

    {{ atera_sync.days_between('bounds', 'first_day', 'last_day') }}

),

day_ends as (

    select
        days.day,
        {{ atera_sync.from_local(
            dbt.dateadd('day', 1, 'days.day'), 'run_parameters.time_zone'
        ) }} as day_end

    from days
    cross join run_parameters

),

open_at_day_end as (

    select
        day_ends.day,
        observations.ticket_priority,
        (
            {{ atera_sync.epoch_seconds('day_ends.day_end') }}
            - {{ atera_sync.epoch_seconds('observations.created_at') }}
        ) / 86400.0 as age_days

    from day_ends
    inner join observations
        on
            day_ends.day_end > observations.valid_from
            and (observations.valid_to is null or day_ends.day_end <= observations.valid_to)
    where
        observations.ticket_status not in ('Resolved', 'Closed')
        and observations.created_at < day_ends.day_end

),

bucketed as (

    select
        open_at_day_end.day,
        open_at_day_end.ticket_priority,
        age_buckets.age_bucket,
        count(*) as tickets

    from open_at_day_end
    inner join age_buckets
        on
            open_at_day_end.age_days >= age_buckets.min_age_days
            and (
                open_at_day_end.age_days < age_buckets.max_age_days
                or age_buckets.max_age_days is null
            )
    group by open_at_day_end.day, open_at_day_end.ticket_priority, age_buckets.age_bucket

),

unknown_rank as (

    select max(priority_rank) + 1 as priority_rank from sla_targets

),

priorities as (

    select
        ticket_priority,
        priority_rank

    from sla_targets
    union all
    select distinct
        observations.ticket_priority,
        unknown_rank.priority_rank

    from observations
    cross join unknown_rank
    where observations.ticket_priority = 'Unknown'

),

grid as (

    select
        days.day,
        priorities.ticket_priority,
        priorities.priority_rank,
        age_buckets.age_bucket,
        age_buckets.age_bucket_rank

    from days
    cross join priorities
    cross join age_buckets

),

final as (

    select
        grid.day,
        cast(grid.ticket_priority as varchar) as ticket_priority,
        cast(grid.age_bucket as varchar) as age_bucket,
        cast(coalesce(bucketed.tickets, 0) as bigint) as tickets,
        cast(grid.priority_rank as integer) as priority_rank,
        cast(grid.age_bucket_rank as integer) as age_bucket_rank,
        run_parameters.as_of

    from grid
    cross join run_parameters
    left join bucketed
        on
            grid.day = bucketed.day
            and grid.ticket_priority = bucketed.ticket_priority
            and grid.age_bucket = bucketed.age_bucket
    order by grid.day, grid.priority_rank, grid.age_bucket_rank

)

select * from final
