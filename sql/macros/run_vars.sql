{#- Turning the run's vars (dbt_project.yml: as_of, business_calendar, ...) into SQL
    literals, checked at compile time so that a bad value fails with a clear message
    instead of a database error, and no value is ever pasted into SQL unquoted. -#}


{#- A SQL string literal, single quotes doubled. -#}
{% macro sql_string(value) -%}
    '{{ (value | string).replace("'", "''") }}'
{%- endmacro %}


{#- `value` (an ISO 8601 string, or a date/datetime that YAML already parsed) as a
    quoted UTC timestamp string, e.g. '2026-11-30 12:00:00.000000+00:00'. A value
    without an offset is taken to be UTC. `what` names the value in errors. -#}
{% macro utc_timestamp_string(value, what) -%}
    {%- set datetime = modules.datetime -%}
    {%- if value is string -%}
        {%- set text = value | trim -%}
    {%- elif value.isoformat is defined -%}
        {%- set text = value.isoformat() -%}
    {%- else -%}
        {%- set text = value | string -%}
    {%- endif -%}
    {%- set iso = '^\\d{4}-\\d{2}-\\d{2}'
        ~ '([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?)?'
        ~ '(Z|[+-]\\d{2}(:?\\d{2})?)?$' -%}
    {%- if not modules.re.match(iso, text) -%}
        {{ exceptions.raise_compiler_error(
            what ~ ' = ' ~ (text | tojson)
            ~ ' is not an ISO 8601 date-time such as 2026-11-30T12:00:00+00:00'
        ) }}
    {%- endif -%}
    {%- set parsed = datetime.datetime.fromisoformat(text) -%}
    {%- if parsed.tzinfo is none -%}
        {%- set parsed = parsed.replace(tzinfo=modules.pytz.utc) -%}
    {%- endif -%}
    '{{ parsed.astimezone(modules.pytz.utc).strftime('%Y-%m-%d %H:%M:%S.%f') }}+00:00'
{%- endmacro %}


{#- The boolean var `name` as `true` / `false`; also accepts the strings 'true' / 'false'. -#}
{% macro boolean_var(name) -%}
    {%- set value = var(name) -%}
    {%- if value is sameas true or (value is string and value | trim | lower == 'true') -%}
        true
    {%- elif value is sameas false or (value is string and value | trim | lower == 'false') -%}
        false
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            'var ' ~ name ~ ' must be true or false, not ' ~ (value | string | tojson)
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- Spell a priority like the staging models and pipelines.models.settings do: trimmed,
    first letter upper case, the rest lower case (' critical' -> 'Critical'). -#}
{% macro normalized_priority(value) -%}
    {%- set text = value | string | trim -%}
    {{- text[:1].upper() ~ text[1:].lower() -}}
{%- endmacro %}


{#- The rows of a `values` list of (open_from, open_to) timestamp strings for var
    business_calendar (`calendar`: [[from_iso, to_iso], ...], each with its UTC offset,
    as Python's datetime.isoformat() writes them; the database converts them); null:
    one interval from 1900-01-01 to 2300-01-01 (calendar minutes); an empty list: one
    row of nulls. Thousands of pairs are usual, so each is only checked by a pattern. -#}
{% macro business_calendar_values(calendar) -%}
    {%- if calendar is none -%}
        {%- set calendar = [['1900-01-01T00:00:00+00:00', '2300-01-01T00:00:00+00:00']] -%}
    {%- elif calendar is string or calendar is mapping or calendar is not iterable -%}
        {{ exceptions.raise_compiler_error(
            'var business_calendar must be a list of [open_from, open_to] pairs or null'
        ) }}
    {%- endif -%}
    {%- if calendar | length == 0 -%}
        (cast(null as varchar), cast(null as varchar))
    {%- endif -%}
    {%- set instant = modules.re.compile(
        '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:?\\d{2})$'
    ) -%}
    {%- for pair in calendar -%}
        {%- if pair is string or pair is not iterable or pair | length != 2
            or not instant.match(pair[0] | string) or not instant.match(pair[1] | string) -%}
            {{ exceptions.raise_compiler_error(
                'var business_calendar: ' ~ (pair | string)
                ~ ' is not a pair of ISO 8601 date-times with offsets, such as '
                ~ "['2026-01-05T08:00:00+00:00', '2026-01-05T16:00:00+00:00']"
            ) }}
        {%- endif -%}
        ('{{ pair[0] }}', '{{ pair[1] }}')
        {{- ',\n        ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- The rows of a `values` list of (ticket_priority, target_minutes, configured_order) for
    var sla_targets (`targets`: [{ticket_priority, target_minutes}, ...], or a mapping
    priority -> minutes), priorities spelled by normalized_priority, checked like
    pipelines.models.settings checks [models.sla_targets]; null or empty: one row of nulls. -#}
{% macro sla_target_values(targets) -%}
    {%- if targets is mapping -%}
        {%- set pairs = [] -%}
        {%- for priority, minutes in targets.items() -%}
            {%- do pairs.append({'ticket_priority': priority, 'target_minutes': minutes}) -%}
        {%- endfor -%}
        {%- set targets = pairs -%}
    {%- elif targets is none -%}
        {%- set targets = [] -%}
    {%- elif targets is string or targets is not iterable -%}
        {{ exceptions.raise_compiler_error(
            'var sla_targets must be a list of {ticket_priority, target_minutes} or null'
        ) }}
    {%- endif -%}
    {%- if targets | length == 0 -%}
        (cast(null as varchar), cast(null as double precision), cast(null as integer))
    {%- endif -%}
    {%- set seen = [] -%}
    {%- for entry in targets -%}
        {%- if entry is not mapping
            or 'ticket_priority' not in entry
            or 'target_minutes' not in entry -%}
            {{ exceptions.raise_compiler_error(
                'var sla_targets: ' ~ (entry | string) ~ ' is not {ticket_priority, target_minutes}'
            ) }}
        {%- endif -%}
        {%- set priority = atera_sync.normalized_priority(entry['ticket_priority']) | trim -%}
        {%- set minutes = entry['target_minutes'] | float(-1) -%}
        {%- if priority in ('', 'None', 'Unknown') or priority in seen -%}
            {{ exceptions.raise_compiler_error(
                'var sla_targets: priority ' ~ (entry['ticket_priority'] | string | tojson)
                ~ ' is empty, reserved (Unknown) or given twice'
            ) }}
        {%- endif -%}
        {%- if not (minutes > 0 and minutes * 0 == 0) -%}
            {{ exceptions.raise_compiler_error(
                'var sla_targets: ' ~ priority ~ ' = ' ~ (entry['target_minutes'] | string)
                ~ ' must be a number of minutes above 0'
            ) }}
        {%- endif -%}
        {%- do seen.append(priority) -%}
        ({{ atera_sync.sql_string(priority) }}, {{ minutes }}, {{ loop.index }})
        {{- ',\n        ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- The rows of a `values` list for a var that is a list of mappings (or null).
    `columns`: [[key, kind], ...] with kind 'text', 'integer', 'number' (minutes:
    double precision above 0) or 'optional_number' (the same, or null); a missing key
    is null (refused for 'number'). Renders one all-null row when the list is empty: filter it out with
    `where <first column> is not null`. `what` names the var in errors. -#}
{% macro typed_var_rows(rows, columns, what) -%}
    {%- if rows is none -%}
        {%- set rows = [] -%}
    {%- elif rows is string or rows is mapping or rows is not iterable -%}
        {{ exceptions.raise_compiler_error('var ' ~ what ~ ' must be a list of mappings or null') }}
    {%- endif -%}
    {%- set sql_types = {
        'text': 'varchar',
        'number': 'double precision',
        'optional_number': 'double precision',
        'integer': 'bigint',
    } -%}
    {%- if rows | length == 0 -%}
        (
        {%- for key, kind in columns -%}
            cast(null as {{ sql_types[kind] }}){{ ', ' if not loop.last }}
        {%- endfor -%}
        )
    {%- endif -%}
    {%- for entry in rows -%}
        {%- if entry is not mapping -%}
            {{ exceptions.raise_compiler_error(
                'var ' ~ what ~ ': ' ~ (entry | string) ~ ' is not a mapping'
            ) }}
        {%- endif -%}
        (
        {%- for key, kind in columns -%}
            {%- set value = entry.get(key) -%}
            {%- if kind == 'text' -%}
                {{ 'cast(null as varchar)' if value is none else atera_sync.sql_string(value) }}
            {%- elif kind == 'integer' -%}
                {%- if value is none -%}
                    cast(null as bigint)
                {%- elif modules.re.match('^-?\\d+$', value | string | trim) -%}
                    cast({{ value | int }} as bigint)
                {%- else -%}
                    {{ exceptions.raise_compiler_error(
                        'var ' ~ what ~ ': ' ~ key ~ ' = ' ~ (value | string | tojson)
                        ~ ' is not a whole number'
                    ) }}
                {%- endif -%}
            {%- elif kind == 'optional_number' and value is none -%}
                cast(null as double precision)
            {%- else -%}
                {%- set number = value | float(-1) -%}
                {%- if not (number > 0 and number * 0 == 0) -%}
                    {{ exceptions.raise_compiler_error(
                        'var ' ~ what ~ ': ' ~ key ~ ' = ' ~ (value | string | tojson)
                        ~ ' must be a number of minutes above 0'
                    ) }}
                {%- endif -%}
                cast({{ number }} as double precision)
            {%- endif -%}
            {{- ', ' if not loop.last }}
        {%- endfor -%}
        )
        {{- ',\n        ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- var targets_source as a quoted literal: 'priority' or 'atera'. -#}
{% macro targets_source_var() -%}
    {%- set value = var('targets_source') | string | trim | lower -%}
    {%- if value not in ('priority', 'atera') -%}
        {{ exceptions.raise_compiler_error(
            'var targets_source must be "priority" or "atera", not ' ~ (value | tojson)
        ) }}
    {%- endif -%}
    {{ atera_sync.sql_string(value) }}
{%- endmacro %}
