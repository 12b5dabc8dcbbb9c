-- One row per status change seen between two syncs (from ticket_status_snapshots):
-- from_status -> to_status, transitioned_at (estimated: the ticket's LastActivityDate
-- when the change was seen, kept between the two observations), observed_at (start
-- of the sync that saw it) and previous_observed_at (of the sync that saw from_status).
-- is_allowed applies the contract's rules: Open -> Pending | Resolved;
-- Pending -> any; Resolved -> Open | Closed; Closed is final.
with

status_history as (

    select * from {{ ref('int_ticket_status_history') }}

),

transitions as (

    select
        ticket_id,
        row_number() over (
            partition by ticket_id order by observed_at
        ) as transition_number,
        from_status,
        to_status,
        ticket_priority,
        changed_at as transitioned_at,
        observed_at,
        previous_observed_at

    from status_history
    where from_status is not null

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
        ticket_priority,
        case
            when from_status not in ('Open', 'Pending', 'Resolved', 'Closed') then false
            when to_status not in ('Open', 'Pending', 'Resolved', 'Closed') then false
            when from_status = 'Pending' then true
            when from_status = 'Open' then to_status in ('Pending', 'Resolved')
            when from_status = 'Resolved' then to_status in ('Open', 'Closed')
            else false
        end as is_allowed

    from transitions

)

select * from final
