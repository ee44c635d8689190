{#- Finding type deregistered_enrolled: int_findings.sql unions int_findings__deregistered_enrolled. -#}
{% macro finding_type__deregistered_enrolled() %}{{ return('deregistered_enrolled') }}{% endmacro %}
