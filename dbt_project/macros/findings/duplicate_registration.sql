{#- Finding type duplicate_registration: int_findings.sql unions int_findings__duplicate_registration. -#}
{% macro finding_type__duplicate_registration() %}{{ return('duplicate_registration') }}{% endmacro %}
