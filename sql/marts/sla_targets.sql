-- First-response targets by priority, in report order. Defaults from the ticket
-- contract (Critical 60, High 240, Medium 480, Low 1440 minutes); change them in
-- the [models.sla_targets] table of .dlt/config.toml.
with

sla_targets as (

    select * from model_inputs.sla_targets

),

final as (

    select
        ticket_priority,
        target_minutes,
        priority_rank

    from sla_targets
    order by priority_rank

)

select * from final
