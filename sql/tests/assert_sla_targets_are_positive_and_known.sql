-- Every target is positive, and the reserved 'Unknown' has none. (One row per
-- priority, with a priority and a target: unique / not_null tests in schema.yml.)
select
    ticket_priority,
    target_minutes

from {{ ref('mart_sla_targets') }}
where target_minutes <= 0 or ticket_priority = 'Unknown'
