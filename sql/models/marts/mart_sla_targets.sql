-- First-response targets by priority, in report order. Defaults from the ticket
-- contract (Critical 60, High 240, Medium 480, Low 1440 minutes); change them in
-- the [models.sla_targets] table of .dlt/config.toml. The relation keeps its name
-- analytics.sla_targets; the file is named apart from the seed sla_targets.
{{ config(alias='sla_targets') }}

with

sla_target_ranks as (

    select * from {{ ref('sla_target_ranks') }}

),

final as (

    select
        cast(ticket_priority as varchar) as ticket_priority,
        cast(target_minutes as double precision) as target_minutes,
        cast(priority_rank as integer) as priority_rank

    from sla_target_ranks
    order by priority_rank

)

select * from final
