{#- Finding type suspected_dropout: int_findings.sql unions int_findings__suspected_dropout. -#}
{% macro finding_type__suspected_dropout() %}{{ return('suspected_dropout') }}{% endmacro %}
