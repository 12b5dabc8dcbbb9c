-- Tickets not yet resolved (status other than Resolved and Closed; without a
-- status: no resolved date) per priority and age at the run's as_of, in calendar
-- days: '< 1 day', '1-3 days', '3-7 days', '7-30 days', '30+ days'. Every known
-- priority lists every bucket; Unknown and a 'no created date' bucket appear only
-- when they have tickets. Read it with `order by priority_rank, age_bucket_rank`.
with

first_response_sla as (

    select * from {{ ref('fct_ticket_first_response_sla') }}

),

sla_targets as (

    select * from {{ ref('mart_sla_targets') }}

),

age_buckets as (

    select * from (
        values
        {{ atera_sync.age_bucket_values() }}
    ) as buckets (age_bucket_rank, age_bucket, min_age_days, max_age_days)  -- noqa: AL05

),

backlog as (

    select
        ticket_id,
        ticket_priority,
        priority_rank,
        sla_status,
        created_at,
        (
            {{ atera_sync.epoch_seconds('as_of') }}
            - {{ atera_sync.epoch_seconds('created_at') }}
        ) / 86400.0 as age_days

    from first_response_sla
    where coalesce(ticket_status not in ('Resolved', 'Closed'), resolved_at is null)

),

bucketed as (

    select
        backlog.ticket_id,
        backlog.ticket_priority,
        backlog.sla_status,
        backlog.created_at,
        coalesce(age_buckets.age_bucket, 'no created date') as age_bucket

    from backlog
    left join age_buckets
        on
            backlog.age_days is not null
            and {{ atera_sync.greatest_of('backlog.age_days', '0') }} >= age_buckets.min_age_days
            and (
                {{ atera_sync.greatest_of('backlog.age_days', '0') }} < age_buckets.max_age_days
                or age_buckets.max_age_days is null
            )

),

grid as (

    select
        sla_targets.ticket_priority,
        sla_targets.priority_rank,
        age_buckets.age_bucket,
        age_buckets.age_bucket_rank

    from sla_targets
    cross join age_buckets
    union
    select
        backlog.ticket_priority,
        backlog.priority_rank,
        age_buckets.age_bucket,
        age_buckets.age_bucket_rank

    from backlog
    cross join age_buckets
    where backlog.ticket_priority = 'Unknown'
    union
    select
        backlog.ticket_priority,
        backlog.priority_rank,
        'no created date' as age_bucket,
        6 as age_bucket_rank

    from backlog
    where backlog.created_at is null

),

aggregated as (

    select
        ticket_priority,
        age_bucket,
        count(*) as tickets,
        {{ atera_sync.count_where("sla_status = 'breached'") }} as sla_breached,
        min(created_at) as oldest_created_at

    from bucketed
    group by ticket_priority, age_bucket

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

final as (

    select
        cast(grid.ticket_priority as varchar) as ticket_priority,
        cast(grid.age_bucket as varchar) as age_bucket,
        cast(coalesce(aggregated.tickets, 0) as bigint) as tickets,
        cast(coalesce(aggregated.sla_breached, 0) as bigint) as sla_breached,
        aggregated.oldest_created_at,
        cast(grid.priority_rank as integer) as priority_rank,
        cast(grid.age_bucket_rank as integer) as age_bucket_rank,
        run_parameters.as_of

    from grid
    cross join run_parameters
    left join aggregated
        on
            grid.ticket_priority = aggregated.ticket_priority
            and grid.age_bucket = aggregated.age_bucket
    order by grid.priority_rank, grid.age_bucket_rank

)

select * from final
