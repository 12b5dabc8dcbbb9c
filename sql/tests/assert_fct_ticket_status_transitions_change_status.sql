-- A transition changes the status, and is estimated no later than it was seen and no
-- earlier than the previous observation. (The key ticket_id, transition_number is
-- tested in schema.yml.)
select
    ticket_id,
    transition_number,
    from_status,
    to_status,
    transitioned_at,
    previous_observed_at,
    observed_at

from {{ ref('fct_ticket_status_transitions') }}
where
    from_status is null
    or to_status is null
    or from_status = to_status
    or transitioned_at > observed_at
    or transitioned_at < previous_observed_at
