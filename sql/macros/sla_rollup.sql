{#- The first-response SLA rollup shared by the marts sla_first_response_by_priority,
    _by_month, _by_technician and _by_customer (see docs/sla.md).

    sla_rollup(relation, group_columns, latest_columns=[]) renders one `select` (use
    it as the body of a CTE) over `relation`, a relation or CTE with one row per
    ticket and the columns of fct_ticket_first_response_sla that it reads:
    sla_status, response_minutes, created_at. It returns, per combination of
    `group_columns` (a list of column names of `relation`; a null is a group of its
    own):

        <group_columns>, <latest_columns>,
        tickets, met, breached, pending, unknown,          -- bigint
        compliance_pct,                                    -- double precision
        median_response_minutes, p90_response_minutes     -- double precision

    * measure: 'response' (default) reads response_minutes and names the results
      median_response_minutes / p90_response_minutes; 'resolution' reads
      resolution_minutes and names them median_resolution_minutes / ...
    * latest_columns: columns taken from the group's most recently created ticket
      (e.g. a customer's name); rows with a null value or creation date are skipped.
    * met + breached + pending + unknown = tickets (each ticket has one sla_status).
    * compliance_pct = 100 * met / (met + breached), null when both are 0.
    * median and p90 (linear interpolation) of response_minutes over the fulfilled
      tickets (response_minutes is null for the others); null when there are none.
    * compliance_pct and the minutes are rounded to 2 decimals.

    Groups without tickets do not appear: marts that list them anyway (every
    priority, every month's priorities) left join the rollup to their grid and
    coalesce the counts to 0. -#}
{% macro sla_rollup(relation, group_columns, latest_columns=[], measure='response') -%}
    {%- if group_columns is string or group_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            'sla_rollup: group_columns must be a non-empty list of column names'
        ) }}
    {%- endif -%}
    select
        {%- for column in group_columns %}
        {{ column }},
        {%- endfor %}
        {%- for column in latest_columns %}
        {{ column }},
        {%- endfor %}
        tickets,
        met,
        breached,
        pending,
        unknown,
        {{ atera_sync.sla_round(
            '100 * cast(met as double precision) / nullif(met + breached, 0)', 2
        ) }} as compliance_pct,
        {{ atera_sync.sla_round('median_' ~ measure ~ '_minutes', 2) }}
            as median_{{ measure }}_minutes,
        {{ atera_sync.sla_round('p90_' ~ measure ~ '_minutes', 2) }} as p90_{{ measure }}_minutes

    from (

        select
            {%- for column in group_columns %}
            {{ column }},
            {%- endfor %}
            {%- for column in latest_columns %}
            {{ atera_sync.arg_max(column, 'created_at') }} as {{ column }},
            {%- endfor %}
            count(*) as tickets,
            {{ atera_sync.count_where("sla_status = 'met'") }} as met,
            {{ atera_sync.count_where("sla_status = 'breached'") }} as breached,
            {{ atera_sync.count_where("sla_status = 'pending'") }} as pending,
            {{ atera_sync.count_where("sla_status = 'unknown'") }} as unknown,
            {{ atera_sync.median(measure ~ '_minutes') }} as median_{{ measure }}_minutes,
            {{ atera_sync.percentile(measure ~ '_minutes', 0.9) }} as p90_{{ measure }}_minutes

        from {{ relation }}
        group by {{ group_columns | join(', ') }}

    ) as counted
{%- endmacro %}


{#- sla_round(expr, digits): the double precision `expr` rounded half away from zero
    to `digits` (>= 0) decimals, as a double precision, exactly as DuckDB's
    round(double, digits) does, so that both engines give the same figures. DuckDB
    rounds the double's exact binary value: 51.175 is stored as 51.17499999999999715...
    and rounds to 51.17, although 51.175 * 100 computes to 5117.5.

    PostgreSQL has no round(double precision, integer); round(numeric) would round
    the 15-digit decimal 51.175 up, and round(double precision) rounds halves to even.
    So the default implementation decides in double precision, exactly: n =
    floor(x * 10^digits), plus 1 when x * 10^digits >= n + 0.5, tested on the exact
    product: x is split into hi + lo (Veltkamp: hi keeps the upper 26 bits of the
    significand), so that hi * 10^digits and lo * 10^digits are exact and
    (hi * 10^digits - (n + 0.5)) + lo * 10^digits has the sign of the exact
    difference. -#}
{% macro sla_round(expr, digits) -%}
    {{ return(adapter.dispatch('sla_round', 'atera_sync')(expr, digits)) }}
{%- endmacro %}

{% macro duckdb__sla_round(expr, digits) -%}
    round({{ expr }}, {{ digits }})
{%- endmacro %}

{% macro default__sla_round(expr, digits) -%}
    {%- set scale = 10 ** (digits | int) -%}
    {%- set x = 'abs(cast(' ~ expr ~ ' as double precision))' -%}
    {%- set split = '(134217729 * ' ~ x ~ ')' -%}
    {%- set hi = '(' ~ split ~ ' - (' ~ split ~ ' - ' ~ x ~ '))' -%}
    {%- set lo = '(' ~ x ~ ' - ' ~ hi ~ ')' -%}
    {%- set n = 'floor(' ~ x ~ ' * ' ~ scale ~ ')' -%}
    (
        sign(cast({{ expr }} as double precision))
        * (
            {{ n }}
            + case
                when ({{ hi }} * {{ scale }} - ({{ n }} + 0.5)) + {{ lo }} * {{ scale }} >= 0
                    then 1
                else 0
            end
        )
        / {{ scale }}
    )
{%- endmacro %}
