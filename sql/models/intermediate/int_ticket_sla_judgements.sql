-- Per ticket and SLA (sla_kind), the verdict as of the run:
--   * sla_status: 'unknown' without a target (or creation date); with Atera's own due
--     time (target_source 'atera'): 'met' when fulfilled by it, 'breached' when
--     fulfilled later or still open after it at as_of, else 'pending'; otherwise
--     'met' / 'pending' while the SLA clock is within the target (fulfilled / not
--     yet), 'breached' once it is beyond;
--   * due_at: Atera's due time with target_source 'atera', else when the SLA clock
--     reaches the target (clock_due_at, kept for the parity with Atera).
with

sla_windows as (

    select * from {{ ref('int_ticket_sla_windows') }}

),

sla_clock as (

    select * from {{ ref('int_ticket_sla_clock') }}

),

final as (

    select
        sla_windows.*,
        sla_clock.elapsed_us,
        sla_clock.paused_us,
        sla_clock.due_at as clock_due_at,
        coalesce(sla_windows.fixed_due_at, sla_clock.due_at) as due_at,
        case
            when sla_windows.created_at is null then 'unknown'
            when sla_windows.fixed_due_at is not null
                then
                    case
                        when sla_windows.fulfilled_at <= sla_windows.fixed_due_at then 'met'
                        when sla_windows.fulfilled_at is not null then 'breached'
                        when sla_windows.as_of > sla_windows.fixed_due_at then 'breached'
                        else 'pending'
                    end
            when sla_windows.target_us is null or sla_clock.elapsed_us is null then 'unknown'
            when sla_clock.elapsed_us <= sla_windows.target_us
                then
                    case when sla_windows.fulfilled_at is null then 'pending' else 'met' end
            else 'breached'
        end as sla_status

    from sla_windows
    left join sla_clock
        on
            sla_windows.ticket_id = sla_clock.ticket_id
            and sla_windows.sla_kind = sla_clock.sla_kind

)

select * from final
