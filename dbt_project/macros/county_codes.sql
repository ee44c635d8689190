{#- Per term, the county's 12-digit code: the 县 in the term's regions feed. -#}
{% macro county_codes() -%}
    select term_id, min(region_code) as county_code
    from {{ ref('stg_tongji__regions') }}
    where region_level = '县'
    group by term_id
{%- endmacro %}
