-- Per priority (report order): how many tickets' first-response due times agree with
-- Atera's FirstResponseDueDate within a minute (agreement_pct: of the tickets for
-- which both exist), the median difference, and the tickets per reason of
-- sla_vendor_parity.
with

parity as (

    select * from {{ ref('sla_vendor_parity') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

rolled_up as (

    select
        ticket_priority,
        min(priority_rank) as priority_rank,
        count(*) as tickets,
        {{ atera_sync.count_where('our_due_at is not null and atera_due_at is not null') }}
            as compared_tickets,
        {{ atera_sync.count_where('due_times_agree') }} as agreeing_tickets,
        {{ atera_sync.median('due_difference_minutes') }} as median_difference_minutes,
        {{ atera_sync.count_where("reason = 'missing_field'") }} as missing_field,
        {{ atera_sync.count_where("reason = 'no_target'") }} as no_target,
        {{ atera_sync.count_where("reason = 'pause'") }} as pause,
        {{ atera_sync.count_where("reason = 'business_hours'") }} as business_hours,
        {{ atera_sync.count_where("reason = 'different_target'") }} as different_target

    from parity
    group by ticket_priority

),

final as (

    select
        cast(rolled_up.ticket_priority as varchar) as ticket_priority,
        cast(rolled_up.tickets as bigint) as tickets,
        cast(rolled_up.compared_tickets as bigint) as compared_tickets,
        cast(rolled_up.agreeing_tickets as bigint) as agreeing_tickets,
        {{ atera_sync.sla_round(
            '100 * cast(rolled_up.agreeing_tickets as double precision)'
            ~ ' / nullif(rolled_up.compared_tickets, 0)',
            2,
        ) }} as agreement_pct,
        {{ atera_sync.sla_round('rolled_up.median_difference_minutes', 2) }}
            as median_difference_minutes,
        cast(rolled_up.missing_field as bigint) as missing_field,
        cast(rolled_up.no_target as bigint) as no_target,
        cast(rolled_up.pause as bigint) as pause,
        cast(rolled_up.business_hours as bigint) as business_hours,
        cast(rolled_up.different_target as bigint) as different_target,
        cast(rolled_up.priority_rank as integer) as priority_rank,
        run_parameters.as_of

    from rolled_up
    cross join run_parameters
    order by rolled_up.priority_rank

)

select * from final
