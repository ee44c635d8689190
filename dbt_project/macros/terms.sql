{#- term_id is YYYY-YYYY-N; the school year starts in September of the first year. -#}
{% macro school_year(term_id_column) -%}
    left({{ term_id_column }}, 4)::int
{%- endmacro %}
