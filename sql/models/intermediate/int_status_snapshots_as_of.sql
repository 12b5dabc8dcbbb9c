{{ config(materialized="view") }}

-- The status snapshots known at the run's as_of: in a point-in-time build, only the
-- observations of syncs that started up to as_of count; a live build passes
-- stg_ticket_status_snapshots through.
with

snapshots as (

    select * from {{ ref('stg_ticket_status_snapshots') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

final as (

    select snapshots.*

    from snapshots
    cross join run_parameters
    where not run_parameters.point_in_time or snapshots.observed_at <= run_parameters.as_of

)

select * from final
