-- One row per ticket comment. The contract's CommentID / CommentDate / CommentText /
-- CreatorContactID and the published API's Date / Comment / EndUserID /
-- TechnicianContactID are unified here. comment_key is set by the loader: the
-- CommentID, or a hash for the published API's id-less comments. Author ids
-- of 0 mean "none" in the published API and become null. A missing IsInternal
-- counts as public. Comments of tickets that Atera no longer has
-- (atera_raw.deleted_tickets, deleted_at set) are left out.
with

source as (

    select * from {{ source('atera_raw', 'comments') }}

),

live as (

    {{ atera_sync.without_deleted_tickets('source') }}

),

final as (

    select
        comment_key,
        comment_id,
        ticket_id,
        {{ atera_sync.utc('coalesce(comment_date, date)') }} as commented_at,
        coalesce(comment_text, comment) as comment_text,
        comment_html,
        nullif(creator_contact_id, 0) as creator_contact_id,
        nullif(end_user_id, 0) as end_user_id,
        nullif(technician_contact_id, 0) as technician_contact_id,
        email as author_email,
        first_name as author_first_name,
        last_name as author_last_name,
        coalesce(is_internal, false) as is_internal,
        _dlt_load_id as dlt_load_id

    from live

)

select * from final
