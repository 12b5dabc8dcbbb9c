-- One row per ticket: Atera's billable total for the ticket.
with

source as (

    select * from raw_contract.billable_durations

),

final as (

    select
        cast(ticket_id as bigint) as ticket_id,
        cast(total_billable_duration as double) as total_billable_seconds,
        coalesce(
            cast(total_billable_hours as double),
            cast(total_billable_duration as double) / 3600
        ) as total_billable_hours,
        _dlt_load_id as dlt_load_id

    from source

)

select * from final
