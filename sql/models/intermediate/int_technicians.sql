-- One row per technician contact id seen on tickets, work hours or (published API)
-- comments, with the most recent name and e-mail the tickets give, else the comments'.
with

tickets as (

    select * from {{ ref('stg_tickets') }}

),

work_hours as (

    select * from {{ ref('stg_work_hours') }}

),

comments as (

    select * from {{ ref('stg_comments') }}

),

technician_ids as (

    select technician_contact_id from tickets
    where technician_contact_id is not null
    union
    select technician_contact_id from work_hours
    where technician_contact_id is not null
    union
    select technician_contact_id from comments
    where technician_contact_id is not null

),

names_from_tickets as (

    select
        technician_contact_id,
        {{ atera_sync.arg_max('technician_full_name', 'created_at') }} as technician_full_name,
        {{ atera_sync.arg_max('technician_email', 'created_at') }} as technician_email

    from tickets
    where technician_contact_id is not null
    group by technician_contact_id

),

names_from_comments as (

    select
        technician_contact_id,
        {{ atera_sync.arg_max(
            "nullif(trim(concat_ws(' ', author_first_name, author_last_name)), '')",
            'commented_at',
        ) }} as technician_full_name,
        {{ atera_sync.arg_max('author_email', 'commented_at') }} as technician_email

    from comments
    where technician_contact_id is not null
    group by technician_contact_id

),

final as (

    select
        technician_ids.technician_contact_id,
        coalesce(
            names_from_tickets.technician_full_name,
            names_from_comments.technician_full_name
        ) as technician_full_name,
        coalesce(
            names_from_tickets.technician_email,
            names_from_comments.technician_email
        ) as technician_email

    from technician_ids
    left join names_from_tickets
        on technician_ids.technician_contact_id = names_from_tickets.technician_contact_id
    left join names_from_comments
        on technician_ids.technician_contact_id = names_from_comments.technician_contact_id

)

select * from final
