{{ config(materialized="view") }}

-- The comments known at the run's as_of: in a point-in-time build, comments written
-- after it (or on tickets created after it) do not exist; a live build passes
-- stg_comments through.
with

comments as (

    select * from {{ ref('stg_comments') }}

),

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

final as (

    select comments.*

    from comments
    cross join run_parameters
    where
        not run_parameters.point_in_time
        or (
            comments.commented_at <= run_parameters.as_of
            and exists (
                select 1 from tickets
                where tickets.ticket_id = comments.ticket_id
            )
        )

)

select * from final
