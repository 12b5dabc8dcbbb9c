-- Tickets whose first-response data does not add up, one row per ticket and reason:
--   * 'api_field_before_creation': the API's first-response field lies before the
--     ticket was created (it still counts: the SLA takes the earliest response);
--   * 'api_field_after_public_comment': the API's field is more than a minute later
--     than an earlier public technician comment (the comment counts).
-- Empty when the data is consistent. Read it to judge how far the API's field can be
-- trusted on an account.
with

first_responses as (

    select * from {{ ref('int_ticket_first_responses') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

before_creation as (

    select
        ticket_id,
        'api_field_before_creation' as reason,
        created_at,
        api_first_response_at,
        first_public_comment_at,
        {{ atera_sync.minutes_between('created_at', 'api_first_response_at') }}
            as difference_minutes

    from first_responses
    where api_first_response_at < created_at

),

after_public_comment as (

    select
        ticket_id,
        'api_field_after_public_comment' as reason,
        created_at,
        api_first_response_at,
        first_public_comment_at,
        {{ atera_sync.minutes_between('first_public_comment_at', 'api_first_response_at') }}
            as difference_minutes

    from first_responses
    where
        api_first_response_at is not null
        and first_public_comment_at is not null
        and {{ atera_sync.minutes_between('first_public_comment_at', 'api_first_response_at') }}
        > 1

),

anomalies as (

    select * from before_creation
    union all
    select * from after_public_comment

),

final as (

    select
        anomalies.ticket_id,
        cast(anomalies.reason as varchar) as reason,
        anomalies.created_at,
        anomalies.api_first_response_at,
        anomalies.first_public_comment_at,
        cast(anomalies.difference_minutes as double precision) as difference_minutes,
        run_parameters.as_of

    from anomalies
    cross join run_parameters

)

select * from final
