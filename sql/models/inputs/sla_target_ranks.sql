-- The first-response targets by priority in force, with their report order: the rows of
-- the seed sla_targets (model_inputs.sla_targets) without a customer or contract, with
-- var sla_targets ([{ticket_priority, target_minutes}, ...], from [models.sla_targets])
-- replacing or adding priorities. Priorities are spelled like staging spells them
-- ('critical ' -> 'Critical'). priority_rank: Critical 1, High 2, Medium 3, Low 4, then
-- the other priorities from 5 on: those of the var in the order given (as
-- pipelines.models.settings ranks them), then the seed's by name.
with

seed_targets as (

    select * from {{ ref('sla_targets') }}

),

configured_targets as (

    select
        configured_values.ticket_priority,
        cast(configured_values.target_minutes as double precision) as target_minutes,
        cast(configured_values.configured_order as integer) as configured_order

    from (
        values
        {{ atera_sync.sla_target_values(var('sla_targets')) }}
    ) as configured_values (ticket_priority, target_minutes, configured_order)
    where configured_values.ticket_priority is not null

),

seed_normalized as (

    select
        upper(left(trim(ticket_priority), 1))
        || lower(substr(trim(ticket_priority), 2)) as ticket_priority,
        cast(target_minutes as double precision) as target_minutes

    from seed_targets
    where customer_id is null and contract_id is null

),

merged as (

    select
        ticket_priority,
        target_minutes,
        1 as source_order,
        configured_order

    from configured_targets
    union all
    select
        seed_normalized.ticket_priority,
        seed_normalized.target_minutes,
        2 as source_order,
        cast(null as integer) as configured_order

    from seed_normalized
    where
        not exists (
            select 1
            from configured_targets
            where configured_targets.ticket_priority = seed_normalized.ticket_priority
        )

),

known_priorities as (

    select
        ticket_priority,
        target_minutes,
        case ticket_priority
            when 'Critical' then 1
            when 'High' then 2
            when 'Medium' then 3
            when 'Low' then 4
        end as priority_rank

    from merged
    where ticket_priority in ('Critical', 'High', 'Medium', 'Low')

),

other_priorities as (

    select
        ticket_priority,
        target_minutes,
        4 + row_number() over (
            order by source_order, configured_order, ticket_priority
        ) as priority_rank

    from merged
    where ticket_priority not in ('Critical', 'High', 'Medium', 'Low')

),

ranked as (

    select * from known_priorities
    union all
    select * from other_priorities

),

final as (

    select
        cast(ticket_priority as varchar) as ticket_priority,
        cast(target_minutes as double precision) as target_minutes,
        cast(priority_rank as integer) as priority_rank

    from ranked

)

select * from final
