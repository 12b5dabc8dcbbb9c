-- Each ticket's timeline from creation on, per SLA (sla_kind), cut into segments in
-- which its SLA clock runs (is_paused = false) or is paused (is_paused = true). The
-- last segment runs forever (segment_end null). Without pauses a ticket has one running
-- segment.
with

sla_windows as (

    select * from {{ ref('int_ticket_sla_windows') }}

),

pauses as (

    select * from {{ ref('int_ticket_sla_pauses') }}

),

pauses_in_order as (

    select
        pauses.ticket_id,
        pauses.sla_kind,
        pauses.pause_start,
        pauses.pause_end,
        coalesce(
            lag(pauses.pause_end) over (
                partition by pauses.ticket_id, pauses.sla_kind order by pauses.pause_start
            ),
            sla_windows.created_at
        ) as running_since,
        lead(pauses.pause_start) over (
            partition by pauses.ticket_id, pauses.sla_kind order by pauses.pause_start
        ) as next_pause_start

    from pauses
    inner join sla_windows
        on
            pauses.ticket_id = sla_windows.ticket_id
            and pauses.sla_kind = sla_windows.sla_kind

),

running_before_pauses as (

    select
        ticket_id,
        sla_kind,
        running_since as segment_start,
        pause_start as segment_end,
        false as is_paused

    from pauses_in_order

),

paused as (

    select
        ticket_id,
        sla_kind,
        pause_start as segment_start,
        pause_end as segment_end,
        true as is_paused

    from pauses_in_order

),

running_after_last_pause as (

    select
        ticket_id,
        sla_kind,
        pause_end as segment_start,
        cast(null as timestamptz) as segment_end,
        false as is_paused

    from pauses_in_order
    where next_pause_start is null

),

running_without_pauses as (

    select
        sla_windows.ticket_id,
        sla_windows.sla_kind,
        sla_windows.created_at as segment_start,
        cast(null as timestamptz) as segment_end,
        false as is_paused

    from sla_windows
    left join pauses
        on
            sla_windows.ticket_id = pauses.ticket_id
            and sla_windows.sla_kind = pauses.sla_kind
    where
        sla_windows.created_at is not null
        and pauses.ticket_id is null

),

segments as (

    select * from running_before_pauses
    union all
    select * from paused
    union all
    select * from running_after_last_pause
    union all
    select * from running_without_pauses

),

final as (

    select
        ticket_id,
        sla_kind,
        row_number() over (
            partition by ticket_id, sla_kind order by segment_start, segment_end nulls last
        ) as segment_number,
        segment_start,
        segment_end,
        is_paused

    from segments
    where segment_end is null or segment_end > segment_start

)

select * from final
