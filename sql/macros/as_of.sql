{#- In int_tickets_as_of: `column` from the ticket version valid at as_of when the
    ticket has one (`version_at`), else from the current ticket (`tickets`). -#}
{% macro version_or_current(column) -%}
    case
        when version_at.ticket_id is not null then version_at.{{ column }}
        else tickets.{{ column }}
    end as {{ column }}
{%- endmacro %}


{#- A raw timestamp as `timestamptz`. dlt writes timestamps with a time zone; a
    timestamp without one (a table loaded some other way) means UTC: the build's
    session time zone is UTC, so the cast never depends on the host's zone. -#}
{% macro utc(column) -%}
    cast({{ column }} as timestamptz)
{%- endmacro %}
