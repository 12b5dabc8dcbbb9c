{#- The rows of `relation` (a CTE or relation with a `ticket_id`) whose ticket Atera
    still has: tickets in atera_raw.deleted_tickets with `deleted_at` set are left out.
    `not exists`, not `not in`: a NULL ticket_id in deleted_tickets must not empty
    everything. Every staging model filters through this one macro. -#}
{% macro without_deleted_tickets(relation) -%}
    select {{ relation }}.*

    from {{ relation }}
    where
        not exists (
            select 1
            from {{ source('atera_raw', 'deleted_tickets') }} as deleted_tickets
            where
                deleted_tickets.ticket_id = {{ relation }}.ticket_id
                and deleted_tickets.deleted_at is not null
        )
{%- endmacro %}
