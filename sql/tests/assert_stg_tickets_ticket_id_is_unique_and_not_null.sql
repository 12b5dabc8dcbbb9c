-- Each ticket appears once in staging, with an id.
select
    ticket_id,
    count(*) as rows_with_this_id

from staging.stg_tickets
group by ticket_id
having ticket_id is null or count(*) > 1
