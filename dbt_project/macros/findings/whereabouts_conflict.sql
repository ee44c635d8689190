{#- Finding type whereabouts_conflict: int_findings.sql unions int_findings__whereabouts_conflict. -#}
{% macro finding_type__whereabouts_conflict() %}{{ return('whereabouts_conflict') }}{% endmacro %}
