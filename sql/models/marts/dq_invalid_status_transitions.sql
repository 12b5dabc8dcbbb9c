-- Data-quality report, not a failure: the status transitions the rules forbid
-- (Open -> Closed without Resolved, anything out of Closed, unknown statuses).
-- A transition is seen between two syncs, so a valid path passed through between
-- them (Open -> Resolved -> Closed) shows up here as Open -> Closed.
with

status_transitions as (

    select * from {{ ref('fct_ticket_status_transitions') }}

),

final as (

    select
        ticket_id,
        transition_number,
        from_status,
        to_status,
        transitioned_at,
        observed_at,
        previous_observed_at,
        case
            when from_status not in ('Open', 'Pending', 'Resolved', 'Closed')
                or to_status not in ('Open', 'Pending', 'Resolved', 'Closed')
                then 'unknown status'
            when from_status = 'Closed' then 'Closed is final'
            when from_status = 'Open' and to_status = 'Closed'
                then 'Open -> Closed skips Resolved'
            else 'not an allowed transition'
        end as violation

    from status_transitions
    where not is_allowed
    order by observed_at, ticket_id

)

select * from final
