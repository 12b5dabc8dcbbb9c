-- Every ticket as it was known at the run's as_of (see docs/sla.md, "Point in time").
--
-- A live build (run_parameters.point_in_time false) passes stg_tickets through. A
-- point-in-time build (atera-sync models --as-of T):
--   * leaves out tickets created after T;
--   * takes priority, status, type, customer, contract, technician, end user and
--     Atera's due dates from the latest version a sync saw up to T
--     (atera_raw.ticket_versions); without one, status and priority from the latest
--     status snapshot up to T; without either, the current values
--     (attributes_source says which: 'ticket_versions', 'status_snapshots', 'current');
--   * forgets a resolved date or first-response field later than T (a version's
--     resolved date when the version is known: a ticket resolved before T and again
--     after it was resolved at T).
with

tickets as (

    select * from {{ ref('stg_tickets') }}

),

versions as (

    select * from {{ ref('stg_ticket_versions') }}

),

snapshots as (

    select * from {{ ref('stg_ticket_status_snapshots') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

versions_up_to_as_of as (

    select
        versions.*,
        row_number() over (
            partition by versions.ticket_id order by versions.observed_at desc
        ) as recency

    from versions
    cross join run_parameters
    where run_parameters.point_in_time and versions.observed_at <= run_parameters.as_of

),

snapshots_up_to_as_of as (

    select
        snapshots.*,
        row_number() over (
            partition by snapshots.ticket_id order by snapshots.observed_at desc
        ) as recency

    from snapshots
    cross join run_parameters
    where run_parameters.point_in_time and snapshots.observed_at <= run_parameters.as_of

),

version_at as (

    select * from versions_up_to_as_of
    where recency = 1

),

snapshot_at as (

    select * from snapshots_up_to_as_of
    where recency = 1

),

combined as (

    select
        tickets.ticket_id,
        tickets.ticket_number,
        {{ atera_sync.version_or_current('ticket_title') }},
        tickets.description,
        case
            when version_at.ticket_id is not null then version_at.ticket_priority
            when snapshot_at.ticket_id is not null then snapshot_at.ticket_priority
            else tickets.ticket_priority
        end as ticket_priority,
        case
            when version_at.ticket_id is not null then version_at.ticket_status
            when snapshot_at.ticket_id is not null then snapshot_at.ticket_status
            else tickets.ticket_status
        end as ticket_status,
        {{ atera_sync.version_or_current('ticket_type') }},
        {{ atera_sync.version_or_current('ticket_impact') }},
        {{ atera_sync.version_or_current('ticket_source') }},
        {{ atera_sync.version_or_current('customer_id') }},
        {{ atera_sync.version_or_current('customer_name') }},
        {{ atera_sync.version_or_current('contract_id') }},
        {{ atera_sync.version_or_current('end_user_id') }},
        tickets.end_user_email,
        tickets.end_user_first_name,
        tickets.end_user_last_name,
        {{ atera_sync.version_or_current('technician_contact_id') }},
        {{ atera_sync.version_or_current('technician_full_name') }},
        tickets.technician_email,
        tickets.created_at,
        {{ atera_sync.version_or_current('resolved_at') }},
        tickets.api_first_response_at,
        tickets.api_first_response_field,
        tickets.last_activity_at,
        tickets.last_end_user_comment_at,
        tickets.last_technician_comment_at,
        tickets.atera_due_at,
        {{ atera_sync.version_or_current('atera_first_response_due_at') }},
        {{ atera_sync.version_or_current('atera_closed_due_at') }},
        case
            when not run_parameters.point_in_time then 'current'
            when version_at.ticket_id is not null then 'ticket_versions'
            when snapshot_at.ticket_id is not null then 'status_snapshots'
            else 'current'
        end as attributes_source,
        run_parameters.point_in_time,
        run_parameters.as_of

    from tickets
    cross join run_parameters
    left join version_at
        on tickets.ticket_id = version_at.ticket_id
    left join snapshot_at
        on tickets.ticket_id = snapshot_at.ticket_id
    where
        not run_parameters.point_in_time
        or tickets.created_at is null
        or tickets.created_at <= run_parameters.as_of

),

final as (

    select
        ticket_id,
        ticket_number,
        ticket_title,
        description,
        ticket_priority,
        ticket_status,
        ticket_type,
        ticket_impact,
        ticket_source,
        customer_id,
        customer_name,
        contract_id,
        end_user_id,
        end_user_email,
        end_user_first_name,
        end_user_last_name,
        technician_contact_id,
        technician_full_name,
        technician_email,
        created_at,
        case
            when not point_in_time or resolved_at <= as_of then resolved_at
        end as resolved_at,
        case
            when not point_in_time or api_first_response_at <= as_of then api_first_response_at
        end as api_first_response_at,
        case
            when not point_in_time or api_first_response_at <= as_of then api_first_response_field
        end as api_first_response_field,
        last_activity_at,
        last_end_user_comment_at,
        last_technician_comment_at,
        atera_due_at,
        atera_first_response_due_at,
        atera_closed_due_at,
        attributes_source

    from combined

)

select * from final
