{#- term_id is YYYY-YYYY-N; the school year starts in September of the first year. -#}
{% macro school_year(term_id_column) -%}
    left({{ term_id_column }}, 4)::int
{%- endmacro %}

{#- SPEC §3 学段: the grade a child born on birth_date is expected in during the school
    year starting in September of school_year: born (Y-7-k)-09-01 to (Y-6-k)-08-31 is
    expected in grade k+1 (a birth date moved back 8 months falls in year Y-7-k). -#}
{% macro expected_grade(birth_date_column, school_year_sql) -%}
    ({{ school_year_sql }} - 6 - extract(year from {{ birth_date_column }} - interval '8 months')::int)
{%- endmacro %}

{#- 小学 grades 1-6, 初中 7-9; outside them no stage (not of compulsory age). -#}
{% macro stage_of(grade_sql) -%}
    case when {{ grade_sql }} between 1 and 6 then '小学' when {{ grade_sql }} between 7 and 9 then '初中' end
{%- endmacro %}
