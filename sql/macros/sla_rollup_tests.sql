{#- The data test shared by the four SLA rollup marts (see sla_rollup.sql).

    sla_rollup_counts_add_up(mart, group_columns, fact_where=none) renders a query
    that returns no rows when
      * every row of `mart` has tickets = met + breached + pending + unknown, none of
        them null or negative;
      * over all rows of `mart`, tickets, met, breached, pending and unknown equal
        those of fct_ticket_first_response_sla (the tickets of the fact that satisfy
        `fact_where`, a SQL condition, when given: the rollup leaves the others out).
    `group_columns` names the mart's key columns, shown (as text) with each offending
    row, and null on the row that reports totals. -#}
{% macro sla_rollup_counts_add_up(mart, group_columns, fact_where=none) -%}
    {%- set statuses = ['met', 'breached', 'pending', 'unknown'] -%}
    with

    mart_rows as (

        select * from {{ mart }}

    ),

    first_response_sla as (

        select * from {{ ref('fct_ticket_first_response_sla') }}
        {%- if fact_where %}
        where {{ fact_where }}
        {%- endif %}

    ),

    unbalanced_rows as (

        select
            'tickets <> met + breached + pending + unknown, or a null or negative count'
                as problem,
            {%- for column in group_columns %}
            cast({{ column }} as varchar) as {{ column }},
            {%- endfor %}
            tickets,
            {%- for status in statuses %}
            {{ status }}{{ ',' if not loop.last }}
            {%- endfor %}

        from mart_rows
        where
            (tickets + met + breached + pending + unknown) is null
            or tickets <> met + breached + pending + unknown
            {%- for status in statuses %}
            or {{ status }} < 0
            {%- endfor %}

    ),

    fact_totals as (

        select
            count(*) as tickets,
            {%- for status in statuses %}
            {{ atera_sync.count_where("sla_status = '" ~ status ~ "'") }}
                as {{ status }}{{ ',' if not loop.last }}
            {%- endfor %}

        from first_response_sla

    ),

    mart_totals as (

        select
            coalesce(sum(tickets), 0) as tickets,
            {%- for status in statuses %}
            coalesce(sum({{ status }}), 0) as {{ status }}{{ ',' if not loop.last }}
            {%- endfor %}

        from mart_rows

    ),

    unequal_totals as (

        select
            'totals differ from the SLA fact (shown: mart minus fact)' as problem,
            {%- for column in group_columns %}
            cast(null as varchar) as {{ column }},
            {%- endfor %}
            mart_totals.tickets - fact_totals.tickets as tickets,
            {%- for status in statuses %}
            mart_totals.{{ status }} - fact_totals.{{ status }}
                as {{ status }}{{ ',' if not loop.last }}
            {%- endfor %}

        from mart_totals
        cross join fact_totals
        where
            mart_totals.tickets <> fact_totals.tickets
            {%- for status in statuses %}
            or mart_totals.{{ status }} <> fact_totals.{{ status }}
            {%- endfor %}

    ),

    final as (

        select * from unbalanced_rows
        union all
        select * from unequal_totals

    )

    select * from final
{%- endmacro %}
