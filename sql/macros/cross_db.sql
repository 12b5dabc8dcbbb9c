{#- Engine-specific SQL, one small macro each, dispatched per adapter:
    `duckdb__*` for DuckDB, `default__*` for PostgreSQL (and, where it costs
    nothing, plain SQL that other engines accept too). Arguments are SQL
    expressions (e.g. a column name, or a quoted literal such as "'UTC'").
    Models call them as `{{ atera_sync.name(...) }}` or `{{ name(...) }}`. -#}


{#- Seconds since 1970-01-01 00:00:00 UTC of a timestamptz, as a double
    (fractional seconds kept). -#}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'atera_sync')(ts)) }}
{%- endmacro %}

{% macro duckdb__epoch_seconds(ts) -%}
    epoch({{ ts }})
{%- endmacro %}

{% macro default__epoch_seconds(ts) -%}
    cast(extract(epoch from {{ ts }}) as double precision)
{%- endmacro %}


{#- Microseconds since the epoch of a timestamptz, as a bigint (exact). -#}
{% macro epoch_microseconds(ts) -%}
    {{ return(adapter.dispatch('epoch_microseconds', 'atera_sync')(ts)) }}
{%- endmacro %}

{% macro duckdb__epoch_microseconds(ts) -%}
    epoch_us({{ ts }})
{%- endmacro %}

{% macro default__epoch_microseconds(ts) -%}
    cast(round(extract(epoch from {{ ts }}) * 1000000) as bigint)
{%- endmacro %}


{#- The timestamptz `ts` plus `us` microseconds (an integer expression). -#}
{% macro add_microseconds(ts, us) -%}
    {{ return(adapter.dispatch('add_microseconds', 'atera_sync')(ts, us)) }}
{%- endmacro %}

{% macro duckdb__add_microseconds(ts, us) -%}
    ({{ ts }} + to_microseconds(cast({{ us }} as bigint)))
{%- endmacro %}

{% macro default__add_microseconds(ts, us) -%}
    ({{ ts }} + cast({{ us }} as bigint) * interval '1 microsecond')
{%- endmacro %}


{#- (end_ts - start_ts) in minutes as a double: exact (seconds / 60, not truncated),
    negative when end_ts is before start_ts. Both engines divide the whole microseconds
    by 60,000,000 in one step, so the double is the same to the last bit (seconds / 60
    would round twice, and a median of two such values can then round to another
    hundredth). -#}
{% macro minutes_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('minutes_between', 'atera_sync')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro duckdb__minutes_between(start_ts, end_ts) -%}
    (cast(epoch_us({{ end_ts }}) - epoch_us({{ start_ts }}) as double) / 60000000)
{%- endmacro %}

{% macro default__minutes_between(start_ts, end_ts) -%}
    (
        cast(
            {{ atera_sync.epoch_microseconds(end_ts) }}
            - {{ atera_sync.epoch_microseconds(start_ts) }} as double precision
        ) / 60000000
    )
{%- endmacro %}


{#- Continuous (linearly interpolated) percentile aggregate; fraction in [0, 1]; null
    when every value is null. The same arithmetic on every engine, in double precision,
    one operator at a time: position p = (n - 1) * fraction, low and high the values at
    floor(p) and ceil(p) of the sorted non-null values, result low + (high - low) *
    (p - floor(p)). The engines' own functions (DuckDB's quantile_cont, PostgreSQL's
    percentile_cont) interpolate differently (DuckDB: low * (1 - d) + high * d, fused
    or not depending on how it was compiled), which can move a median by one unit in
    the last place, and a rounded median by 0.01. -#}
{% macro percentile(expr, fraction) -%}
    {%- set position = '(cast(count(' ~ expr ~ ') - 1 as double precision) * cast('
        ~ fraction ~ ' as double precision))' -%}
    {%- set sorted = '(array_agg(' ~ expr ~ ' order by ' ~ expr ~ ') filter (where '
        ~ expr ~ ' is not null))' -%}
    {%- set low = sorted ~ '[cast(floor(' ~ position ~ ') as integer) + 1]' -%}
    {%- set high = sorted ~ '[cast(ceil(' ~ position ~ ') as integer) + 1]' -%}
    ({{ low }} + ({{ high }} - {{ low }}) * ({{ position }} - floor({{ position }})))
{%- endmacro %}


{#- Median aggregate: the continuous 50th percentile. -#}
{% macro median(expr) -%}
    {{ return(atera_sync.percentile(expr, 0.5)) }}
{%- endmacro %}


{#- Aggregate: the number of rows where `condition` is true (0, never null, as a bigint). -#}
{% macro count_where(condition) -%}
    {{ return(adapter.dispatch('count_where', 'atera_sync')(condition)) }}
{%- endmacro %}

{% macro duckdb__count_where(condition) -%}
    count(*) filter (where {{ condition }})
{%- endmacro %}

{% macro postgres__count_where(condition) -%}
    count(*) filter (where {{ condition }})
{%- endmacro %}

{% macro default__count_where(condition) -%}
    cast(coalesce(sum(case when {{ condition }} then 1 else 0 end), 0) as bigint)
{%- endmacro %}


{#- greatest_of(a, b, ...) / least_of(a, b, ...): the greatest / least argument that is
    not null; null only when every argument is null. DuckDB's and PostgreSQL's
    greatest/least already skip nulls; the default does not rely on it: each argument
    is replaced by the first non-null argument when it is null. -#}
{% macro greatest_of() -%}
    {{ return(adapter.dispatch('greatest_of', 'atera_sync')(*varargs)) }}
{%- endmacro %}

{% macro duckdb__greatest_of() -%}
    {{ atera_sync.null_skipping_extreme('greatest', varargs, true) }}
{%- endmacro %}

{% macro postgres__greatest_of() -%}
    {{ atera_sync.null_skipping_extreme('greatest', varargs, true) }}
{%- endmacro %}

{% macro default__greatest_of() -%}
    {{ atera_sync.null_skipping_extreme('greatest', varargs, false) }}
{%- endmacro %}

{% macro least_of() -%}
    {{ return(adapter.dispatch('least_of', 'atera_sync')(*varargs)) }}
{%- endmacro %}

{% macro duckdb__least_of() -%}
    {{ atera_sync.null_skipping_extreme('least', varargs, true) }}
{%- endmacro %}

{% macro postgres__least_of() -%}
    {{ atera_sync.null_skipping_extreme('least', varargs, true) }}
{%- endmacro %}

{% macro default__least_of() -%}
    {{ atera_sync.null_skipping_extreme('least', varargs, false) }}
{%- endmacro %}

{#- `function`(args) that skips nulls; `native_skips_nulls`: the engine's own function
    already does. -#}
{% macro null_skipping_extreme(function, args, native_skips_nulls) -%}
    {%- if args | length == 0 -%}
        {{ exceptions.raise_compiler_error(function ~ '_of() needs at least one argument') }}
    {%- elif args | length == 1 -%}
        {{ args[0] }}
    {%- elif native_skips_nulls -%}
        {{ function }}({{ args | join(', ') }})
    {%- else -%}
        {{ function }}(
        {%- for arg in args -%}
            coalesce({{ arg }}, {{ args | join(', ') }}){{ ', ' if not loop.last }}
        {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}


{#- arg_max(value, order_expr) / arg_min(value, order_expr), aggregates: `value` at the
    row with the greatest / least `order_expr`. Rows where either is null are skipped
    (DuckDB's arg_max semantics); null when no row is left. Ties: any of them. -#}
{% macro arg_max(value, order_expr) -%}
    {{ return(adapter.dispatch('arg_max', 'atera_sync')(value, order_expr)) }}
{%- endmacro %}

{% macro duckdb__arg_max(value, order_expr) -%}
    arg_max({{ value }}, {{ order_expr }})
{%- endmacro %}

{% macro default__arg_max(value, order_expr) -%}
    (array_agg({{ value }} order by {{ order_expr }} desc) filter (
        where {{ value }} is not null and {{ order_expr }} is not null
    ))[1]
{%- endmacro %}

{% macro arg_min(value, order_expr) -%}
    {{ return(adapter.dispatch('arg_min', 'atera_sync')(value, order_expr)) }}
{%- endmacro %}

{% macro duckdb__arg_min(value, order_expr) -%}
    arg_min({{ value }}, {{ order_expr }})
{%- endmacro %}

{% macro default__arg_min(value, order_expr) -%}
    (array_agg({{ value }} order by {{ order_expr }} asc) filter (
        where {{ value }} is not null and {{ order_expr }} is not null
    ))[1]
{%- endmacro %}


{#- to_local(ts, zone): the wall-clock time (timestamp without time zone) that the
    instant `ts` (timestamptz) shows in the IANA zone `zone` (e.g. 'Europe/Amsterdam').
    from_local(local_ts, zone): the instant (timestamptz) of a wall-clock time there. -#}
{% macro to_local(ts, zone) -%}
    {{ return(adapter.dispatch('to_local', 'atera_sync')(ts, zone)) }}
{%- endmacro %}

{% macro duckdb__to_local(ts, zone) -%}
    timezone({{ zone }}, cast({{ ts }} as timestamptz))
{%- endmacro %}

{% macro default__to_local(ts, zone) -%}
    (cast({{ ts }} as timestamp with time zone) at time zone {{ zone }})
{%- endmacro %}

{% macro from_local(local_ts, zone) -%}
    {{ return(adapter.dispatch('from_local', 'atera_sync')(local_ts, zone)) }}
{%- endmacro %}

{% macro duckdb__from_local(local_ts, zone) -%}
    timezone({{ zone }}, cast({{ local_ts }} as timestamp))
{%- endmacro %}

{% macro default__from_local(local_ts, zone) -%}
    (cast({{ local_ts }} as timestamp) at time zone {{ zone }})
{%- endmacro %}


{#- Every date from `first_column` to `last_column` (inclusive) of the one-row
    `relation`, one row each, as a column `day`. -#}
{% macro days_between(relation, first_column, last_column) -%}
    {{ return(adapter.dispatch('days_between', 'atera_sync')(relation, first_column, last_column)) }}
{%- endmacro %}

{% macro duckdb__days_between(relation, first_column, last_column) -%}
    select
        cast(
            unnest(
                generate_series(
                    cast({{ first_column }} as timestamp),
                    cast({{ last_column }} as timestamp),
                    interval '1 day'
                )
            ) as date
        ) as day
    from {{ relation }}
{%- endmacro %}

{% macro default__days_between(relation, first_column, last_column) -%}
    select
        cast(
            generate_series(
                cast({{ first_column }} as timestamp),
                cast({{ last_column }} as timestamp),
                interval '1 day'
            ) as date
        ) as day
    from {{ relation }}
{%- endmacro %}


{#- The local date in `zone` of the instant `ts`. -#}
{% macro local_date(ts, zone) -%}
    cast({{ atera_sync.to_local(ts, zone) }} as date)
{%- endmacro %}


{#- The backlog age buckets, as the rows of a `values` list of (age_bucket_rank,
    age_bucket, min_age_days, max_age_days): calendar days, max exclusive, null for the
    last bucket. 'no created date' (rank 6) is added by the marts that need it. -#}
{% macro age_bucket_values() -%}
    (1, '< 1 day', 0.0, 1.0),
    (2, '1-3 days', 1.0, 3.0),
    (3, '3-7 days', 3.0, 7.0),
    (4, '7-30 days', 7.0, 30.0),
    (5, '30+ days', 30.0, null)
{%- endmacro %}
