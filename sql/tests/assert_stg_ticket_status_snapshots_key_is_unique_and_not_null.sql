-- One snapshot per ticket per sync: (ticket_id, observed_at) is the key.
select
    ticket_id,
    observed_at,
    count(*) as rows_with_this_key

from staging.stg_ticket_status_snapshots
group by ticket_id, observed_at
having ticket_id is null or observed_at is null or count(*) > 1
