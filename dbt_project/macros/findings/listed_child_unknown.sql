{#- Finding type listed_child_unknown: int_findings.sql unions int_findings__listed_child_unknown. -#}
{% macro finding_type__listed_child_unknown() %}{{ return('listed_child_unknown') }}{% endmacro %}
