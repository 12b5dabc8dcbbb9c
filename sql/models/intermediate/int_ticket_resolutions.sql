-- When each ticket was resolved, as known at the run's as_of:
--   * first_resolved_at: the first time it was seen resolved: the earliest of the
--     API's resolved date, the resolved dates earlier syncs saw (ticket versions: a
--     reopened ticket's resolved date moves on, its versions keep the first one), and
--     the first status change to Resolved or Closed in the status history (dated as
--     int_ticket_status_history dates changes); first_resolution_source says which;
--   * resolved_at: the API's (latest) resolved date;
--   * reopen_count: how often the status history saw it go from Resolved or Closed
--     back to Open or Pending (changes between two syncs are not seen).
with

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

versions as (

    select * from {{ ref('int_ticket_versions_as_of') }}

),

status_history as (

    select * from {{ ref('int_ticket_status_history') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

earliest_version_resolutions as (

    select
        versions.ticket_id,
        min(versions.resolved_at) as resolved_at

    from versions
    cross join run_parameters
    where
        versions.resolved_at is not null
        and (not run_parameters.point_in_time or versions.resolved_at <= run_parameters.as_of)
    group by versions.ticket_id

),

history_resolutions as (

    select
        ticket_id,
        min(case when to_status in ('Resolved', 'Closed') then changed_at end) as resolved_at,
        {{ atera_sync.count_where(
            "from_status in ('Resolved', 'Closed') and to_status in ('Open', 'Pending')"
        ) }} as reopen_count

    from status_history
    group by ticket_id

),

candidates as (

    select
        tickets.ticket_id,
        tickets.resolved_at,
        earliest_version_resolutions.resolved_at as version_resolved_at,
        history_resolutions.resolved_at as history_resolved_at,
        coalesce(history_resolutions.reopen_count, 0) as reopen_count

    from tickets
    left join earliest_version_resolutions
        on tickets.ticket_id = earliest_version_resolutions.ticket_id
    left join history_resolutions
        on tickets.ticket_id = history_resolutions.ticket_id

),

earliest as (

    select
        *,
        {{ atera_sync.least_of('resolved_at', 'version_resolved_at', 'history_resolved_at') }}
            as first_resolved_at

    from candidates

),

final as (

    select
        ticket_id,
        resolved_at,
        first_resolved_at,
        case
            when first_resolved_at = resolved_at then 'resolved_date'
            when first_resolved_at = version_resolved_at then 'ticket_versions'
            when first_resolved_at = history_resolved_at then 'status_history'
        end as first_resolution_source,
        cast(reopen_count as integer) as reopen_count

    from earliest

)

select * from final
