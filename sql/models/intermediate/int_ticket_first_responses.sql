-- When each ticket was first answered, and where that time comes from:
-- the API's first-response timestamp when present (FirstResponseDate, or
-- TechnicianFirstCommentDate in the published API), else the earliest comment that
-- is not internal and was written by a technician, else none.
with

tickets as (

    select * from {{ ref('stg_tickets') }}

),

comment_authors as (

    select * from {{ ref('int_comment_authors') }}

),

first_public_technician_comments as (

    select
        ticket_id,
        min(commented_at) as first_comment_at

    from comment_authors
    where
        author_type = 'technician'
        and not is_internal
        and commented_at is not null
    group by ticket_id

),

final as (

    select
        tickets.ticket_id,
        coalesce(
            tickets.api_first_response_at,
            first_public_technician_comments.first_comment_at
        ) as first_response_at,
        case
            when tickets.api_first_response_at is not null
                then tickets.api_first_response_field
            when first_public_technician_comments.first_comment_at is not null
                then 'technician_comment'
            else 'none'
        end as first_response_source

    from tickets
    left join first_public_technician_comments
        on tickets.ticket_id = first_public_technician_comments.ticket_id

)

select * from final
