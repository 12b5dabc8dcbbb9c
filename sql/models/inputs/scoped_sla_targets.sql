-- Targets for one customer or one contract, which win over the targets by priority
-- (the most specific applies: contract, then customer, then priority): the rows of the
-- seed sla_targets with a contract_id or customer_id, and var scoped_sla_targets
-- ([{scope, scope_id, ticket_priority, target_minutes, resolution_target_minutes}],
-- from [models.sla_targets_by_customer] and [models.sla_targets_by_contract])
-- replacing or adding (scope, scope_id, priority) rows. A null target leaves that
-- SLA to the next, less specific level.
with

seed_targets as (

    select * from {{ ref('sla_targets') }}

),

configured_targets as (

    select
        configured_values.scope,
        configured_values.scope_id,
        configured_values.ticket_priority,
        configured_values.target_minutes,
        configured_values.resolution_target_minutes

    from (
        values
        {{ atera_sync.typed_var_rows(
            var('scoped_sla_targets'),
            [
                ['scope', 'text'],
                ['scope_id', 'integer'],
                ['ticket_priority', 'text'],
                ['target_minutes', 'optional_number'],
                ['resolution_target_minutes', 'optional_number'],
            ],
            'scoped_sla_targets',
        ) }}
    ) as configured_values (
        scope, scope_id, ticket_priority, target_minutes, resolution_target_minutes
    )
    where configured_values.scope in ('customer', 'contract')

),

seed_scoped as (

    select
        case when contract_id is not null then 'contract' else 'customer' end as scope,
        cast(coalesce(contract_id, customer_id) as bigint) as scope_id,
        ticket_priority,
        cast(target_minutes as double precision) as target_minutes,
        cast(resolution_target_minutes as double precision) as resolution_target_minutes

    from seed_targets
    where customer_id is not null or contract_id is not null

),

normalized as (

    select
        scope,
        scope_id,
        upper(left(trim(ticket_priority), 1))
        || lower(substr(trim(ticket_priority), 2)) as ticket_priority,
        target_minutes,
        resolution_target_minutes,
        source_order

    from (
        select
            *,
            1 as source_order
        from configured_targets
        union all
        select
            *,
            2 as source_order
        from seed_scoped
    ) as both_sources

),

ranked as (

    select
        *,
        row_number() over (
            partition by scope, scope_id, ticket_priority order by source_order
        ) as precedence

    from normalized

),

final as (

    select
        cast(scope as varchar) as scope,
        cast(scope_id as bigint) as scope_id,
        cast(ticket_priority as varchar) as ticket_priority,
        cast(target_minutes as double precision) as target_minutes,
        cast(resolution_target_minutes as double precision) as resolution_target_minutes

    from ranked
    where precedence = 1

)

select * from final
