-- First-response (and, where set, resolution) targets by priority, in report order.
-- Defaults from the ticket contract (Critical 60, High 240, Medium 480, Low 1440
-- minutes); change them in the [models.sla_targets] table of .dlt/config.toml. The
-- relation keeps its name analytics.sla_targets; the file is named apart from the seed
-- sla_targets.
{{ config(alias='sla_targets') }}

with

sla_target_ranks as (

    select * from {{ ref('sla_target_ranks') }}

),

resolution_targets as (

    select * from {{ ref('resolution_targets') }}

),

final as (

    select
        cast(sla_target_ranks.ticket_priority as varchar) as ticket_priority,
        cast(sla_target_ranks.target_minutes as double precision) as target_minutes,
        cast(sla_target_ranks.priority_rank as integer) as priority_rank,
        cast(
            resolution_targets.resolution_target_minutes as double precision
        ) as resolution_target_minutes

    from sla_target_ranks
    left join resolution_targets
        on sla_target_ranks.ticket_priority = resolution_targets.ticket_priority
    order by sla_target_ranks.priority_rank

)

select * from final
