{{ config(materialized="view") }}

-- Who wrote each comment: 'technician', 'end_user' or 'unknown' (author_rule says why).
-- In order:
--   1. the published API names the author: technician_contact_id, else end_user_id;
--   2. no author id at all: 'unknown' (never counted as a response);
--   3. creator_contact_id is the ticket's end user: 'end_user';
--   4. creator_contact_id is a known technician (assigned to any ticket, on any
--      work-hour record, or named as technician on any comment): 'technician';
--   5. creator_contact_id is a known end user (of any ticket, or named as end user
--      on any comment): 'end_user';
--   6. anyone else: 'technician'. End users are only ever known from tickets, so an
--      unknown contact answering a ticket is taken to be staff.
with

comments as (

    select * from {{ ref('int_comments_as_of') }}

),

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

work_hours as (

    select * from {{ ref('stg_work_hours') }}

),

known_technicians as (

    select technician_contact_id as contact_id from tickets
    where technician_contact_id is not null
    union
    select technician_contact_id as contact_id from work_hours
    where technician_contact_id is not null
    union
    select technician_contact_id as contact_id from comments
    where technician_contact_id is not null

),

known_end_users as (

    select end_user_id as contact_id from tickets
    where end_user_id is not null
    union
    select end_user_id as contact_id from comments
    where end_user_id is not null

),

classified as (

    select
        comments.comment_key,
        comments.ticket_id,
        comments.commented_at,
        comments.is_internal,
        coalesce(
            comments.technician_contact_id,
            comments.end_user_id,
            comments.creator_contact_id
        ) as author_contact_id,
        case
            when comments.technician_contact_id is not null then 'api_technician_contact_id'
            when comments.end_user_id is not null then 'api_end_user_id'
            when comments.creator_contact_id is null then 'no_author'
            when comments.creator_contact_id = tickets.end_user_id then 'ticket_end_user'
            when known_technicians.contact_id is not null then 'known_technician'
            when known_end_users.contact_id is not null then 'known_end_user'
            else 'unknown_contact'
        end as author_rule

    from comments
    left join tickets
        on comments.ticket_id = tickets.ticket_id
    left join known_technicians
        on comments.creator_contact_id = known_technicians.contact_id
    left join known_end_users
        on comments.creator_contact_id = known_end_users.contact_id

),

final as (

    select
        comment_key,
        ticket_id,
        commented_at,
        is_internal,
        author_contact_id,
        case author_rule
            when 'api_technician_contact_id' then 'technician'
            when 'known_technician' then 'technician'
            when 'unknown_contact' then 'technician'
            when 'no_author' then 'unknown'
            else 'end_user'
        end as author_type,
        author_rule

    from classified

)

select * from final
