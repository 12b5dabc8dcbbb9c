-- The intervals that stop a ticket's SLA clocks: time spent in Pending between
-- creation and the end of each SLA's window (sla_kind; so for the first-response SLA
-- only before it was fulfilled), when run_parameters.pause_sla_when_pending (var
-- pause_sla_when_pending) is on. Empty otherwise. A status first seen by a sync (no
-- earlier observation of the ticket) is taken to hold from that sync on, not from the
-- ticket's LastActivityDate: what happened before the first observation is unknown.
with

status_history as (

    select * from {{ ref('int_ticket_status_history') }}

),

sla_windows as (

    select * from {{ ref('int_ticket_sla_windows') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

clipped as (

    select
        status_history.ticket_id,
        sla_windows.sla_kind,
        {{ atera_sync.greatest_of(
            'case when status_history.from_status is null then status_history.observed_at '
            ~ 'else status_history.changed_at end',
            'sla_windows.created_at',
        ) }} as pause_start,
        {{ atera_sync.least_of(
            'coalesce(status_history.valid_to, sla_windows.window_end)',
            'sla_windows.window_end',
        ) }} as pause_end

    from status_history
    inner join sla_windows
        on status_history.ticket_id = sla_windows.ticket_id
    cross join run_parameters
    where
        run_parameters.pause_sla_when_pending
        and status_history.to_status = 'Pending'
        and sla_windows.created_at is not null

),

final as (

    select
        ticket_id,
        sla_kind,
        pause_start,
        pause_end

    from clipped
    where pause_end > pause_start

)

select * from final
