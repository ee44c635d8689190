{#- Finding type disabled_unplaced: int_findings.sql unions int_findings__disabled_unplaced. -#}
{% macro finding_type__disabled_unplaced() %}{{ return('disabled_unplaced') }}{% endmacro %}
