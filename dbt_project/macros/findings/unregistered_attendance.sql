{#- Finding type unregistered_attendance: int_findings.sql unions int_findings__unregistered_attendance. -#}
{% macro finding_type__unregistered_attendance() %}{{ return('unregistered_attendance') }}{% endmacro %}
