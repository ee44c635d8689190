{#- Finding type child_labour: int_findings.sql unions int_findings__child_labour. -#}
{% macro finding_type__child_labour() %}{{ return('child_labour') }}{% endmacro %}
