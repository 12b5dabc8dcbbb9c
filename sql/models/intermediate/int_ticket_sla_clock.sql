-- Reads each ticket's SLA clocks, one per SLA (sla_kind), (see int_sla_calendar and
-- int_ticket_sla_clock_segments):
--   elapsed_us: SLA time that counted between created_at and window_end;
--   paused_us:  SLA time in that window that a Pending pause took away;
--   due_at:     the instant the clock reaches the target (null without a target, or
--               when the target lies beyond the calendar).
with

sla_windows as (

    select * from {{ ref('int_ticket_sla_windows') }}

),

segments as (

    select * from {{ ref('int_ticket_sla_clock_segments') }}

),

calendar as (

    select * from {{ ref('int_sla_calendar') }}

),

segments_in_window as (

    select
        segments.ticket_id,
        segments.sla_kind,
        segments.segment_number,
        segments.is_paused,
        segments.segment_start,
        segments.segment_end,
        {{ atera_sync.least_of(
            'sla_windows.window_end',
            'coalesce(segments.segment_end, sla_windows.window_end)',
        ) }} as segment_stop

    from segments
    inner join sla_windows
        on
            segments.ticket_id = sla_windows.ticket_id
            and segments.sla_kind = sla_windows.sla_kind

),

instants as (

    select
        ticket_id,
        sla_kind,
        segment_number,
        'start' as instant,
        segment_start as instant_at
    from segments_in_window
    union all
    select
        ticket_id,
        sla_kind,
        segment_number,
        'stop' as instant,
        segment_stop as instant_at
    from segments_in_window
    union all
    select
        ticket_id,
        sla_kind,
        segment_number,
        'end' as instant,
        segment_end as instant_at
    from segments_in_window
    where segment_end is not null

),

clock_readings as (

    select
        instants.ticket_id,
        instants.sla_kind,
        instants.segment_number,
        instants.instant,
        coalesce(
            calendar.clock_us_before
            + {{ atera_sync.least_of(
                atera_sync.greatest_of(
                    atera_sync.epoch_microseconds('instants.instant_at')
                    ~ ' - ' ~ atera_sync.epoch_microseconds('calendar.open_from'),
                    '0',
                ),
                'calendar.open_us',
            ) }},
            0
        ) as clock_us

    from instants
    left join calendar
        on
            instants.instant_at >= calendar.open_from
            and instants.instant_at < calendar.next_open_from

),

segment_readings as (

    select
        ticket_id,
        sla_kind,
        segment_number,
        max(case when instant = 'start' then clock_us end) as clock_start_us,
        max(case when instant = 'stop' then clock_us end) as clock_stop_us,
        max(case when instant = 'end' then clock_us end) as clock_end_us

    from clock_readings
    group by ticket_id, sla_kind, segment_number

),

measured as (

    select
        segments_in_window.ticket_id,
        segments_in_window.sla_kind,
        segments_in_window.segment_number,
        segments_in_window.is_paused,
        segment_readings.clock_start_us,
        {{ atera_sync.greatest_of(
            'segment_readings.clock_stop_us - segment_readings.clock_start_us', '0'
        ) }} as window_us,
        segment_readings.clock_end_us - segment_readings.clock_start_us as segment_us

    from segments_in_window
    inner join segment_readings
        on
            segments_in_window.ticket_id = segment_readings.ticket_id
            and segments_in_window.sla_kind = segment_readings.sla_kind
            and segments_in_window.segment_number = segment_readings.segment_number

),

running_totals as (

    select
        measured.ticket_id,
        measured.sla_kind,
        measured.clock_start_us,
        measured.segment_us,
        sla_windows.target_us,
        coalesce(
            sum(measured.segment_us) over (
                partition by measured.ticket_id, measured.sla_kind
                order by measured.segment_number
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as running_us_before

    from measured
    inner join sla_windows
        on
            measured.ticket_id = sla_windows.ticket_id
            and measured.sla_kind = sla_windows.sla_kind
    where not measured.is_paused and sla_windows.target_us is not null

),

due_clock as (

    select
        ticket_id,
        sla_kind,
        clock_start_us + target_us - running_us_before as due_clock_us

    from running_totals
    where
        running_us_before < target_us
        and (segment_us is null or target_us <= running_us_before + segment_us)

),

due as (

    select
        due_clock.ticket_id,
        due_clock.sla_kind,
        {{ atera_sync.add_microseconds(
            'calendar.open_from',
            'due_clock.due_clock_us - calendar.clock_us_before',
        ) }} as due_at

    from due_clock
    inner join calendar
        on
            due_clock.due_clock_us > calendar.clock_us_before
            and due_clock.due_clock_us <= calendar.clock_us_after

),

totals as (

    select
        ticket_id,
        sla_kind,
        cast(sum(case when not is_paused then window_us else 0 end) as bigint) as elapsed_us,
        cast(sum(case when is_paused then window_us else 0 end) as bigint) as paused_us

    from measured
    group by ticket_id, sla_kind

),

final as (

    select
        totals.ticket_id,
        totals.sla_kind,
        totals.elapsed_us,
        totals.paused_us,
        due.due_at

    from totals
    left join due
        on
            totals.ticket_id = due.ticket_id
            and totals.sla_kind = due.sla_kind

)

select * from final
