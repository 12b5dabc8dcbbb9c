-- Each work-hour record appears once, with an id.
select
    work_hour_id,
    count(*) as rows_with_this_id

from staging.stg_work_hours
group by work_hour_id
having work_hour_id is null or count(*) > 1
