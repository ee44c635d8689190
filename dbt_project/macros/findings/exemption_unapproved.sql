{#- Finding type exemption_unapproved: int_findings.sql unions int_findings__exemption_unapproved. -#}
{% macro finding_type__exemption_unapproved() %}{{ return('exemption_unapproved') }}{% endmacro %}
