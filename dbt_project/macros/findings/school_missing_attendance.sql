{#- Finding type school_missing_attendance: int_findings.sql unions int_findings__school_missing_attendance. -#}
{% macro finding_type__school_missing_attendance() %}{{ return('school_missing_attendance') }}{% endmacro %}
