-- One row per Atera contract (atera_raw.contracts, GET /contracts). A missing Active
-- or Default flag counts as false.
with

source as (

    select * from {{ source('atera_raw', 'contracts') }}

),

final as (

    select
        contract_id,
        customer_id,
        customer_name,
        contract_name,
        contract_type,
        coalesce(active, false) as is_active,
        coalesce(is_default, false) as is_default,
        {{ atera_sync.utc('start_date') }} as starts_at,
        {{ atera_sync.utc('end_date') }} as ends_at

    from source

)

select * from final
