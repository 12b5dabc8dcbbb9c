-- One row per ticket per sync that listed it (atera_raw.ticket_versions): the ticket as
-- that sync saw it. observed_at is when the sync started (server time). Priority and
-- status are spelled like stg_tickets spells them; the first-response field is unified
-- like there. Versions of tickets that Atera no longer has are left out.
with

source as (

    select * from {{ source('atera_raw', 'ticket_versions') }}

),

live as (

    {{ atera_sync.without_deleted_tickets('source') }}

),

final as (

    select
        ticket_id,
        {{ atera_sync.utc('observed_at') }} as observed_at,
        ticket_title,
        upper(left(nullif(trim(ticket_priority), ''), 1))
        || lower(substr(nullif(trim(ticket_priority), ''), 2)) as ticket_priority,
        upper(left(nullif(trim(ticket_status), ''), 1))
        || lower(substr(nullif(trim(ticket_status), ''), 2)) as ticket_status,
        nullif(trim(ticket_type), '') as ticket_type,
        nullif(trim(ticket_impact), '') as ticket_impact,
        nullif(trim(ticket_source), '') as ticket_source,
        customer_id,
        customer_name,
        contract_id,
        end_user_id,
        technician_contact_id,
        technician_full_name,
        {{ atera_sync.utc('ticket_resolved_date') }} as resolved_at,
        {{ atera_sync.utc('coalesce(first_response_date, technician_first_comment_date)') }}
            as api_first_response_at,
        {{ atera_sync.utc('first_response_due_date') }} as atera_first_response_due_at,
        {{ atera_sync.utc('closed_ticket_due_date') }} as atera_closed_due_at,
        {{ atera_sync.utc('last_activity_date') }} as last_activity_at,
        _dlt_load_id as dlt_load_id

    from live

)

select * from final
