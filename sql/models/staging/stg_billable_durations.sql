-- One row per ticket: Atera's billable total for the ticket. Tickets that Atera no
-- longer has (atera_raw.deleted_tickets, deleted_at set) are left out.
with

source as (

    select * from {{ source('atera_raw', 'billable_durations') }}

),

live as (

    {{ atera_sync.without_deleted_tickets('source') }}

),

final as (

    select
        ticket_id,
        cast(total_billable_duration as double precision) as total_billable_seconds,
        coalesce(
            total_billable_hours,
            cast(total_billable_duration as double precision) / 3600
        ) as total_billable_hours,
        _dlt_load_id as dlt_load_id

    from live

)

select * from final
