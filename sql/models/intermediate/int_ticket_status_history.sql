-- Each ticket's status over time, from the sync-by-sync snapshots: one row each time
-- a sync saw a status different from the one the previous sync saw (the first
-- observation included, with no from_status). Snapshots that repeat the status
-- (e.g. only the priority changed) are not changes.
--
-- changed_at estimates when the status changed: the ticket's LastActivityDate at
-- the snapshot, kept between the previous observation (the old status was still
-- there) and this one (the new status was there); without LastActivityDate, the
-- observation time. valid_to is the next change (null: still the current status).
with

snapshots as (

    select * from {{ ref('int_status_snapshots_as_of') }}

),

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

ordered as (

    select
        ticket_id,
        ticket_status,
        ticket_priority,
        observed_at,
        last_activity_at,
        lag(ticket_status) over (
            partition by ticket_id order by observed_at
        ) as previous_status,
        lag(observed_at) over (
            partition by ticket_id order by observed_at
        ) as previous_observed_at

    from snapshots
    where ticket_status is not null and observed_at is not null

),

changes as (

    select
        ordered.ticket_id,
        ordered.previous_status as from_status,
        ordered.ticket_status as to_status,
        ordered.ticket_priority,
        ordered.observed_at,
        ordered.previous_observed_at,
        {{ atera_sync.least_of(
            'ordered.observed_at',
            atera_sync.greatest_of(
                'coalesce(ordered.last_activity_at, ordered.observed_at)',
                'ordered.previous_observed_at',
                'tickets.created_at',
            ),
        ) }} as changed_at

    from ordered
    left join tickets
        on ordered.ticket_id = tickets.ticket_id
    where
        ordered.previous_status is null
        or ordered.previous_status <> ordered.ticket_status

),

final as (

    select
        ticket_id,
        row_number() over (
            partition by ticket_id order by observed_at
        ) as change_number,
        from_status,
        to_status,
        ticket_priority,
        changed_at,
        lead(changed_at) over (
            partition by ticket_id order by observed_at
        ) as valid_to,
        observed_at,
        previous_observed_at

    from changes

)

select * from final
