-- One row per ticket, also those that Atera no longer has (is_deleted, deleted_at:
-- atera_raw.deleted_tickets with deleted_at set). Unifies the ticket contract's
-- fields with Atera's published API (TechnicianFirstCommentDate,
-- FirstResponseDueDate, ...); priority and status are trimmed and spelled with one
-- leading capital ('critical ' -> 'Critical'). Every other model reads stg_tickets,
-- which leaves the deleted tickets out; fct_tickets lists them, flagged.
with

source as (

    select * from {{ source('atera_raw', 'tickets') }}

),

deleted as (

    select
        ticket_id,
        max({{ atera_sync.utc('deleted_at') }}) as deleted_at

    from {{ source('atera_raw', 'deleted_tickets') }}
    where ticket_id is not null and deleted_at is not null
    group by ticket_id

),

live as (

    select
        source.*,
        deleted.deleted_at

    from source
    left join deleted
        on source.ticket_id = deleted.ticket_id

),

renamed as (

    select
        ticket_id,
        ticket_number,
        ticket_title,
        coalesce(description, first_comment) as description,
        nullif(trim(ticket_priority), '') as raw_ticket_priority,
        nullif(trim(ticket_status), '') as raw_ticket_status,
        nullif(trim(ticket_type), '') as ticket_type,
        nullif(trim(ticket_impact), '') as ticket_impact,
        nullif(trim(ticket_source), '') as ticket_source,
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
        {{ atera_sync.utc('ticket_created_date') }} as created_at,
        {{ atera_sync.utc('ticket_resolved_date') }} as resolved_at,
        {{ atera_sync.utc('first_response_date') }} as first_response_date,
        {{ atera_sync.utc('technician_first_comment_date') }} as technician_first_comment_date,
        {{ atera_sync.utc('last_activity_date') }} as last_activity_at,
        {{ atera_sync.utc('last_end_user_comment_timestamp') }} as last_end_user_comment_at,
        {{ atera_sync.utc('last_technician_comment_timestamp') }} as last_technician_comment_at,
        {{ atera_sync.utc('due_date') }} as atera_due_at,
        {{ atera_sync.utc('first_response_due_date') }} as atera_first_response_due_at,
        {{ atera_sync.utc('closed_ticket_due_date') }} as atera_closed_due_at,
        deleted_at,
        _dlt_load_id as dlt_load_id

    from live

),

final as (

    select
        ticket_id,
        ticket_number,
        ticket_title,
        description,
        upper(left(raw_ticket_priority, 1))
        || lower(substr(raw_ticket_priority, 2)) as ticket_priority,
        upper(left(raw_ticket_status, 1))
        || lower(substr(raw_ticket_status, 2)) as ticket_status,
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
        resolved_at,
        coalesce(first_response_date, technician_first_comment_date) as api_first_response_at,
        case
            when first_response_date is not null then 'api_first_response_date'
            when technician_first_comment_date is not null
                then 'api_technician_first_comment_date'
        end as api_first_response_field,
        coalesce(
            last_activity_at,
            {{ atera_sync.greatest_of('last_end_user_comment_at', 'last_technician_comment_at') }}
        ) as last_activity_at,
        last_end_user_comment_at,
        last_technician_comment_at,
        atera_due_at,
        atera_first_response_due_at,
        atera_closed_due_at,
        deleted_at is not null as is_deleted,
        deleted_at,
        dlt_load_id

    from renamed

)

select * from final
