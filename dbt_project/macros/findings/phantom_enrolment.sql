{#- Finding type phantom_enrolment: int_findings.sql unions int_findings__phantom_enrolment. -#}
{% macro finding_type__phantom_enrolment() %}{{ return('phantom_enrolment') }}{% endmacro %}
