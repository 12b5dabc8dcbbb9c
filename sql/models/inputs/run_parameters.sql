-- One row: the run's parameters, from the vars (dbt_project.yml). as_of is the instant
-- unanswered tickets are judged at (ISO 8601; without an offset: UTC): var as_of, else
-- the environment variable ATERA_AS_OF (how atera-sync passes it, so that a new as_of
-- does not make dbt parse the whole project again), else the time of the build.
-- point_in_time (var point_in_time): only what was known at as_of counts.
-- targets_source (var targets_source): 'priority' or 'atera'.
{%- set as_of = var('as_of') %}
{%- if as_of is none %}
    {%- set as_of = env_var('ATERA_AS_OF', '') | trim or none %}
{%- endif %}
with

final as (

    select
        {% if as_of is none -%}
            cast(current_timestamp as timestamptz) as as_of,
        {%- else -%}
            cast({{ atera_sync.utc_timestamp_string(as_of, 'as_of') }} as timestamptz) as as_of,
        {%- endif %}
        {{ atera_sync.boolean_var('pause_sla_when_pending') }} as pause_sla_when_pending,
        cast({{ atera_sync.sql_string(var('time_zone')) }} as varchar) as time_zone,
        {{ atera_sync.boolean_var('business_hours_enabled') }} as business_hours_enabled,
        {{ atera_sync.boolean_var('point_in_time') }} as point_in_time,
        cast({{ atera_sync.targets_source_var() }} as varchar) as targets_source

)

select * from final
