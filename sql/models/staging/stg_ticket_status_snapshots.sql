-- One row per ticket per sync that fetched it: the status and priority it had then.
-- observed_at is when that sync started (server time); last_activity_at is the
-- ticket's LastActivityDate at the time, the best estimate of when a status changed.
-- Snapshots of tickets that Atera no longer has (atera_raw.deleted_tickets,
-- deleted_at set) are left out.
with

source as (

    select * from {{ source('atera_raw', 'ticket_status_snapshots') }}

),

live as (

    {{ atera_sync.without_deleted_tickets('source') }}

),

renamed as (

    select
        ticket_id,
        nullif(trim(ticket_status), '') as raw_ticket_status,
        nullif(trim(ticket_priority), '') as raw_ticket_priority,
        {{ atera_sync.utc('observed_at') }} as observed_at,
        {{ atera_sync.utc('last_activity_date') }} as last_activity_at,
        _dlt_load_id as dlt_load_id

    from live

),

final as (

    select
        ticket_id,
        upper(left(raw_ticket_status, 1))
        || lower(substr(raw_ticket_status, 2)) as ticket_status,
        upper(left(raw_ticket_priority, 1))
        || lower(substr(raw_ticket_priority, 2)) as ticket_priority,
        observed_at,
        last_activity_at,
        dlt_load_id

    from renamed

)

select * from final
