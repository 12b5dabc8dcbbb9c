-- Each status agrees with the minutes and the target it was derived from (or, with
-- target_source 'atera', with Atera's due time).
select
    ticket_id,
    ticket_priority,
    target_minutes,
    fulfilled_at,
    response_minutes,
    elapsed_minutes,
    sla_status,
    target_source,
    due_at,
    as_of

from {{ ref('fct_ticket_first_response_sla') }}
where
    (
        target_source = 'atera'
        and (
            (sla_status = 'met' and not fulfilled_at <= due_at)
            or (sla_status = 'pending' and not (fulfilled_at is null and as_of <= due_at))
            or (sla_status = 'breached' and not coalesce(fulfilled_at, as_of) > due_at)
        )
    )
    or (
        target_source is distinct from 'atera'
        and (
            (sla_status = 'unknown') <> (target_minutes is null or created_at is null)
            or (ticket_priority = 'Unknown') <> (target_minutes is null)
            or (
                sla_status = 'met'
                and not (fulfilled_at is not null and response_minutes <= target_minutes)
            )
            or (
                sla_status = 'pending'
                and not (fulfilled_at is null and elapsed_minutes <= target_minutes)
            )
            or (sla_status = 'breached' and not elapsed_minutes > target_minutes)
        )
    )
    or (fulfilled_at is null) <> (fulfilled_by is null)
    or (fulfilled_at is not null and created_at is not null and response_minutes is null)
    or response_minutes < 0
    or paused_minutes < 0
