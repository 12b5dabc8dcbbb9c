-- Each comment appears once, with a key and a ticket.
select
    comment_key,
    count(*) as rows_with_this_key,
    count(*) filter (where ticket_id is null) as rows_without_ticket

from staging.stg_comments
group by comment_key
having
    comment_key is null
    or count(*) > 1
    or count(*) filter (where ticket_id is null) > 0
