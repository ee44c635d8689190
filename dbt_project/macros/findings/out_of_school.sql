{#- Finding type out_of_school: int_findings.sql unions int_findings__out_of_school. -#}
{% macro finding_type__out_of_school() %}{{ return('out_of_school') }}{% endmacro %}
