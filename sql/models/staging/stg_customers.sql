-- One row per Atera customer (atera_raw.customers, GET /customers).
with

source as (

    select * from {{ source('atera_raw', 'customers') }}

),

final as (

    select
        customer_id,
        customer_name,
        business_number,
        domain,
        city,
        state,
        country,
        {{ atera_sync.utc('created_on') }} as created_at,
        {{ atera_sync.utc('last_modified') }} as modified_at

    from source

)

select * from final
