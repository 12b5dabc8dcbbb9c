-- One row per ticket comment. The contract's CommentID / CommentDate / CommentText /
-- CreatorContactID and the published API's Date / Comment / EndUserID /
-- TechnicianContactID are unified here. comment_key is set by the loader: the
-- CommentID, or a hash for the published API's id-less comments. Author ids
-- of 0 mean "none" in the published API and become null. A missing IsInternal
-- counts as public.
with

source as (

    select * from raw_contract.comments

),

final as (

    select
        comment_key,
        cast(comment_id as bigint) as comment_id,
        cast(ticket_id as bigint) as ticket_id,
        cast(coalesce(comment_date, date) as timestamptz) as commented_at,
        coalesce(comment_text, comment) as comment_text,
        comment_html,
        nullif(cast(creator_contact_id as bigint), 0) as creator_contact_id,
        nullif(cast(end_user_id as bigint), 0) as end_user_id,
        nullif(cast(technician_contact_id as bigint), 0) as technician_contact_id,
        email as author_email,
        first_name as author_first_name,
        last_name as author_last_name,
        coalesce(cast(is_internal as boolean), false) as is_internal,
        _dlt_load_id as dlt_load_id

    from source

)

select * from final
