{#- The rows of a department's 回执 (marts/receipts/receipt_<feed>): each child of the CTE
    `listed` (term_id, child_key and what the department's list says, list_columns) with
    what receipt_child_status says of it - school, 学段, 学籍状态, 就学状况, findings and
    case. cohort_only: answer only for children of the compulsory cohort (a list of
    household members of every age); otherwise every child, with 义务教育适龄 是/否. -#}
{% macro department_receipt(list_columns, cohort_only=false) -%}
    select
        status.term_id,
        status.township_code,
        status.sheet_name,
        status.child_key,
        {%- for column in list_columns %}
        listed.{{ column }},
        {%- endfor %}
        {%- if not cohort_only %}
        status.in_cohort_label,
        {%- endif %}
        status.school_name,
        status.grade,
        status.stage,
        status.registry_status,
        status.schooling_status,
        status.findings,
        status.case_status
    from listed
    inner join status
        on listed.term_id = status.term_id
        and listed.child_key = status.child_key
    {%- if cohort_only %}
    where status.in_cohort
    {%- endif %}
{%- endmacro %}
