-- The resolution targets by priority in force: the seed sla_targets' column
-- resolution_target_minutes (rows without a customer or contract), with var
-- resolution_targets ([{ticket_priority, resolution_target_minutes}], from
-- [models.resolution_targets]) replacing or adding priorities. No default is
-- invented: a priority without a target has no resolution SLA.
with

seed_targets as (

    select * from {{ ref('sla_targets') }}

),

configured_targets as (

    select
        configured_values.ticket_priority,
        configured_values.resolution_target_minutes

    from (
        values
        {{ atera_sync.typed_var_rows(
            var('resolution_targets'),
            [['ticket_priority', 'text'], ['resolution_target_minutes', 'number']],
            'resolution_targets',
        ) }}
    ) as configured_values (ticket_priority, resolution_target_minutes)
    where configured_values.ticket_priority is not null

),

configured_normalized as (

    select
        upper(left(trim(ticket_priority), 1))
        || lower(substr(trim(ticket_priority), 2)) as ticket_priority,
        resolution_target_minutes

    from configured_targets

),

seed_normalized as (

    select
        upper(left(trim(ticket_priority), 1))
        || lower(substr(trim(ticket_priority), 2)) as ticket_priority,
        cast(resolution_target_minutes as double precision) as resolution_target_minutes

    from seed_targets
    where
        customer_id is null
        and contract_id is null
        and resolution_target_minutes is not null

),

final as (

    select
        cast(ticket_priority as varchar) as ticket_priority,
        cast(resolution_target_minutes as double precision) as resolution_target_minutes

    from configured_normalized
    union all
    select
        cast(seed_normalized.ticket_priority as varchar) as ticket_priority,
        seed_normalized.resolution_target_minutes

    from seed_normalized
    where
        not exists (
            select 1
            from configured_normalized
            where configured_normalized.ticket_priority = seed_normalized.ticket_priority
        )

)

select * from final
