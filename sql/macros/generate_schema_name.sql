{#- Models land in the schema their folder names (staging, intermediate, analytics),
    not in `<target schema>_<name>` as dbt does by default: dashboards and the
    README name these schemas. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
