-- sla_status, first_response_source and fulfilled_by only take documented values.
select
    ticket_id,
    sla_status,
    first_response_source,
    fulfilled_by

from analytics.fct_ticket_first_response_sla
where
    sla_status is null
    or sla_status not in ('met', 'breached', 'pending', 'unknown')
    or first_response_source is null
    or first_response_source not in (
        'api_first_response_date',
        'api_technician_first_comment_date',
        'technician_comment',
        'none'
    )
    or (fulfilled_by is not null and fulfilled_by not in ('first_response', 'resolution'))
