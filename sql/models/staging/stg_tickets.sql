-- One row per ticket that Atera still has (stg_tickets_with_deleted without the tickets
-- marked deleted in atera_raw.deleted_tickets): what every other model reads.
with

tickets as (

    select * from {{ ref('stg_tickets_with_deleted') }}

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
        resolved_at,
        api_first_response_at,
        api_first_response_field,
        last_activity_at,
        last_end_user_comment_at,
        last_technician_comment_at,
        atera_due_at,
        atera_first_response_due_at,
        atera_closed_due_at,
        dlt_load_id

    from tickets
    where not is_deleted

)

select * from final
