{#- Models land in the schema their folder names (staging, intermediate, marts, pii),
    not in "<target>_<schema>": BI tools and grants rely on fixed schema names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}
