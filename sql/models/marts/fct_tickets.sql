-- One row per ticket, with everything a dashboard slices by: who, what, when, how fast,
-- the SLA verdicts, comments and hours. Tickets that Atera no longer has are listed
-- too, flagged is_deleted (with what the warehouse last knew of them, and no SLA
-- figures). A point-in-time build lists the tickets known at as_of, as they were.
with

tickets as (

    select * from {{ ref('int_tickets_as_of') }}

),

all_tickets as (

    select * from {{ ref('stg_tickets_with_deleted') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

first_response_sla as (

    select * from {{ ref('int_ticket_sla_judgements') }}
    where sla_kind = 'first_response'

),

resolution_sla as (

    select * from {{ ref('int_ticket_sla_judgements') }}
    where sla_kind = 'resolution'

),

resolutions as (

    select * from {{ ref('int_ticket_resolutions') }}

),

status_history as (

    select * from {{ ref('int_ticket_status_history') }}

),

comment_authors as (

    select * from {{ ref('int_comment_authors') }}

),

work_hours as (

    select * from {{ ref('stg_work_hours') }}

),

billable_durations as (

    select * from {{ ref('stg_billable_durations') }}

),

run_parameters as (

    select * from {{ ref('run_parameters') }}

),

known_tickets as (

    select
        ticket_id,
        ticket_number,
        ticket_title,
        ticket_type,
        ticket_source,
        ticket_impact,
        ticket_status,
        customer_id,
        customer_name,
        contract_id,
        end_user_id,
        end_user_email,
        technician_contact_id,
        technician_full_name,
        created_at,
        resolved_at,
        false as is_deleted,
        cast(null as timestamptz) as deleted_at

    from tickets
    union all
    select
        all_tickets.ticket_id,
        all_tickets.ticket_number,
        all_tickets.ticket_title,
        all_tickets.ticket_type,
        all_tickets.ticket_source,
        all_tickets.ticket_impact,
        all_tickets.ticket_status,
        all_tickets.customer_id,
        all_tickets.customer_name,
        all_tickets.contract_id,
        all_tickets.end_user_id,
        all_tickets.end_user_email,
        all_tickets.technician_contact_id,
        all_tickets.technician_full_name,
        all_tickets.created_at,
        all_tickets.resolved_at,
        true as is_deleted,
        all_tickets.deleted_at

    from all_tickets
    cross join run_parameters
    where
        all_tickets.is_deleted
        and (
            not run_parameters.point_in_time
            or all_tickets.created_at <= run_parameters.as_of
        )

),

closures as (

    select
        ticket_id,
        min(changed_at) as closed_at

    from status_history
    where to_status = 'Closed'
    group by ticket_id

),

comment_counts as (

    select
        ticket_id,
        {{ atera_sync.count_where("author_type = 'technician' and not is_internal") }}
            as public_technician_comments,
        {{ atera_sync.count_where("author_type = 'technician' and is_internal") }}
            as internal_technician_comments,
        {{ atera_sync.count_where("author_type = 'end_user' and not is_internal") }}
            as public_end_user_comments,
        {{ atera_sync.count_where("author_type = 'end_user' and is_internal") }}
            as internal_end_user_comments

    from comment_authors
    group by ticket_id

),

hours as (

    select
        ticket_id,
        sum(coalesce(duration_seconds, 0)) / 3600.0 as work_hours,
        sum(case when is_billable then coalesce(duration_seconds, 0) else 0 end) / 3600.0
            as billable_work_hours

    from work_hours
    group by ticket_id

),

final as (

    select
        known_tickets.ticket_id,
        cast(known_tickets.ticket_number as varchar) as ticket_number,
        cast(known_tickets.ticket_title as varchar) as ticket_title,
        cast(known_tickets.ticket_type as varchar) as ticket_type,
        cast(known_tickets.ticket_source as varchar) as ticket_source,
        cast(known_tickets.ticket_impact as varchar) as ticket_impact,
        cast(coalesce(first_response_sla.ticket_priority, 'Unknown') as varchar)
            as ticket_priority,
        cast(first_response_sla.raw_ticket_priority as varchar) as raw_ticket_priority,
        cast(first_response_sla.priority_rank as integer) as priority_rank,
        cast(known_tickets.ticket_status as varchar) as ticket_status,
        known_tickets.customer_id,
        cast(known_tickets.customer_name as varchar) as customer_name,
        known_tickets.contract_id,
        cast(contracts.contract_name as varchar) as contract_name,
        known_tickets.end_user_id,
        cast(known_tickets.end_user_email as varchar) as end_user_email,
        known_tickets.technician_contact_id,
        cast(known_tickets.technician_full_name as varchar) as technician_full_name,
        known_tickets.created_at,
        first_response_sla.first_response_at,
        cast(first_response_sla.first_response_source as varchar) as first_response_source,
        known_tickets.resolved_at,
        resolutions.first_resolved_at,
        closures.closed_at,
        cast(
            {{ atera_sync.minutes_between(
                'known_tickets.created_at', 'first_response_sla.first_response_at'
            ) }} as double precision
        ) as first_response_calendar_minutes,
        case
            when run_parameters.business_hours_enabled
                and first_response_sla.fulfilled_at is not null
                then cast(first_response_sla.elapsed_us as double precision) / 60000000
        end as first_response_business_minutes,
        cast(
            {{ atera_sync.minutes_between(
                'known_tickets.created_at', 'resolution_sla.fulfilled_at'
            ) }} as double precision
        ) as resolution_calendar_minutes,
        case
            when run_parameters.business_hours_enabled and resolution_sla.fulfilled_at is not null
                then cast(resolution_sla.elapsed_us as double precision) / 60000000
        end as resolution_business_minutes,
        cast(first_response_sla.target_minutes as double precision)
            as first_response_target_minutes,
        cast(first_response_sla.target_source as varchar) as first_response_target_source,
        first_response_sla.due_at as first_response_due_at,
        cast(first_response_sla.sla_status as varchar) as first_response_sla_status,
        cast(resolution_sla.target_minutes as double precision) as resolution_target_minutes,
        resolution_sla.due_at as resolution_due_at,
        cast(resolution_sla.sla_status as varchar) as resolution_sla_status,
        cast(coalesce(resolutions.reopen_count, 0) as integer) as reopen_count,
        cast(coalesce(comment_counts.public_technician_comments, 0) as bigint)
            as public_technician_comments,
        cast(coalesce(comment_counts.internal_technician_comments, 0) as bigint)
            as internal_technician_comments,
        cast(coalesce(comment_counts.public_end_user_comments, 0) as bigint)
            as public_end_user_comments,
        cast(coalesce(comment_counts.internal_end_user_comments, 0) as bigint)
            as internal_end_user_comments,
        cast(coalesce(hours.work_hours, 0) as double precision) as work_hours,
        cast(coalesce(hours.billable_work_hours, 0) as double precision) as billable_work_hours,
        cast(billable_durations.total_billable_hours as double precision)
            as billable_duration_hours,
        known_tickets.is_deleted,
        known_tickets.deleted_at,
        run_parameters.as_of

    from known_tickets
    cross join run_parameters
    left join first_response_sla
        on known_tickets.ticket_id = first_response_sla.ticket_id
    left join resolution_sla
        on known_tickets.ticket_id = resolution_sla.ticket_id
    left join resolutions
        on known_tickets.ticket_id = resolutions.ticket_id
    left join closures
        on known_tickets.ticket_id = closures.ticket_id
    left join comment_counts
        on known_tickets.ticket_id = comment_counts.ticket_id
    left join hours
        on known_tickets.ticket_id = hours.ticket_id
    left join billable_durations
        on known_tickets.ticket_id = billable_durations.ticket_id
    left join contracts
        on known_tickets.contract_id = contracts.contract_id

)

select * from final
