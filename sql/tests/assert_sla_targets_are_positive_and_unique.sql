-- One positive target per priority, and no target for the reserved 'Unknown'.
select
    ticket_priority,
    count(*) as rows_with_this_priority,
    min(target_minutes) as smallest_target

from analytics.sla_targets
group by ticket_priority
having
    ticket_priority is null
    or ticket_priority = 'Unknown'
    or count(*) > 1
    or min(target_minutes) is null
    or min(target_minutes) <= 0
