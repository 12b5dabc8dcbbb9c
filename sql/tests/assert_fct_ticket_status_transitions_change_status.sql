-- A transition changes the status, is estimated no later than it was seen and no
-- earlier than the previous observation; (ticket_id, transition_number) is unique.
with

status_transitions as (

    select * from analytics.fct_ticket_status_transitions

),

inconsistent as (

    select
        ticket_id,
        transition_number,
        'not a change, or estimated outside its observations' as problem

    from status_transitions
    where
        from_status is null
        or to_status is null
        or from_status = to_status
        or transitioned_at > observed_at
        or transitioned_at < previous_observed_at

),

duplicated as (

    select
        ticket_id,
        transition_number,
        'duplicate key' as problem

    from status_transitions
    group by ticket_id, transition_number
    having count(*) > 1

),

final as (

    select * from inconsistent
    union all
    select * from duplicated

)

select * from final
