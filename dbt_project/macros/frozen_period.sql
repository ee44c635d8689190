{#- The config of a frozen period table (frozen_term_indicators, frozen_school_months,
    frozen_term_targets, frozen_case_months, agg_attendance_daily/weekly/monthly): incremental,
    only the open period's rows (unique_key) rewritten, never a full refresh (so
    `dbt build --full-refresh` cannot rewrite history), the schema fixed, township
    accounts reading their own rows. Use: {{ config(**frozen_period(['term_id', 'x'])) }}. -#}
{% macro frozen_period(unique_key, null_is_county=true) -%}
    {%- do return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'full_refresh': false,
        'on_schema_change': 'fail',
        'post_hook': '{{ township_row_security(null_is_county=' ~ (null_is_county | string | lower) ~ ') }}',
        'grants': {'+select': ['kcbx_township']},
    }) -%}
{%- endmacro %}
