-- One billable total per ticket.
select
    ticket_id,
    count(*) as rows_with_this_id

from staging.stg_billable_durations
group by ticket_id
having ticket_id is null or count(*) > 1
