{#- Finding type poverty_dropout: int_findings.sql unions int_findings__poverty_dropout. -#}
{% macro finding_type__poverty_dropout() %}{{ return('poverty_dropout') }}{% endmacro %}
