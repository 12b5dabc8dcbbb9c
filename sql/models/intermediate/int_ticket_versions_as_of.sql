{{ config(materialized="view") }}

-- The ticket versions known at the run's as_of: in a point-in-time build, only the
-- versions seen by syncs that started up to as_of count; a live build passes
-- stg_ticket_versions through.
with

versions as (

    select * from {{ ref('stg_ticket_versions') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

final as (

    select versions.*

    from versions
    cross join run_parameters
    where not run_parameters.point_in_time or versions.observed_at <= run_parameters.as_of

)

select * from final
