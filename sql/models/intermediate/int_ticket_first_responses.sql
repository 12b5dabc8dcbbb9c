-- When each ticket was first answered, and where that time comes from: the earliest
-- of the API's first-response field (FirstResponseDate, or TechnicianFirstCommentDate
-- in the published API) and the earliest comment that is not internal and was written
-- by a technician; on a tie, the API's field. first_response_source names the winner
-- ('api_first_response_date', 'api_technician_first_comment_date',
-- 'technician_comment', or 'none'). Both candidates are kept, so that
-- dq_first_response_anomalies can list a field before creation or more than a minute
-- after an earlier public technician comment.
with

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

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
        tickets.created_at,
        tickets.api_first_response_at,
        first_public_technician_comments.first_comment_at as first_public_comment_at,
        case
            when
                first_public_technician_comments.first_comment_at is not null
                and (
                    tickets.api_first_response_at is null
                    or first_public_technician_comments.first_comment_at
                    < tickets.api_first_response_at
                )
                then first_public_technician_comments.first_comment_at
            else tickets.api_first_response_at
        end as first_response_at,
        case
            when
                first_public_technician_comments.first_comment_at is not null
                and (
                    tickets.api_first_response_at is null
                    or first_public_technician_comments.first_comment_at
                    < tickets.api_first_response_at
                )
                then 'technician_comment'
            when tickets.api_first_response_at is not null
                then tickets.api_first_response_field
            else 'none'
        end as first_response_source

    from tickets
    left join first_public_technician_comments
        on tickets.ticket_id = first_public_technician_comments.ticket_id

)

select * from final
