{#- The stable code for a Chinese value of a code list (seeds/code_values.csv). Values
    outside the list never reach staging: the loader quarantines them. -#}
{% macro code_of(code_list, column) -%}
    (
        select code_values.code from {{ ref('code_values') }} as code_values
        where code_values.code_list = '{{ code_list }}' and code_values.value = {{ column }}
    )
{%- endmacro %}
