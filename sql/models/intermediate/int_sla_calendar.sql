-- The SLA clock's calendar with running totals: every interval in which SLA minutes
-- count (UTC; one interval covering all time when counting calendar minutes).
--
-- clock_us(t), the microseconds the clock has run up to instant t, is
--     clock_us_before + least(greatest(us(t) - us(open_from), 0), open_us)
-- for the interval with open_from <= t < next_open_from (0 before the first one),
-- us() being microseconds since the epoch.
-- Elapsed SLA time between two instants is the difference of their clock_us.
with

business_calendar as (

    select * from {{ ref('business_calendar') }}

),

intervals as (

    select
        open_from,
        open_to,
        {{ atera_sync.epoch_microseconds('open_to') }}
        - {{ atera_sync.epoch_microseconds('open_from') }} as open_us

    from business_calendar
    where open_to > open_from

),

final as (

    select
        open_from,
        open_to,
        coalesce(
            lead(open_from) over (order by open_from),
            cast('9999-12-31 00:00:00+00' as timestamptz)
        ) as next_open_from,
        open_us,
        cast(
            sum(open_us) over (
                order by open_from
                rows between unbounded preceding and current row
            ) as bigint
        ) - open_us as clock_us_before,
        cast(
            sum(open_us) over (
                order by open_from
                rows between unbounded preceding and current row
            ) as bigint
        ) as clock_us_after

    from intervals

)

select * from final
