{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['term_id', 'period_start'],
        full_refresh=false,
        on_schema_change='fail',
        post_hook="{{ township_row_security(null_is_county=true) }}",
        grants={'+select': ['kcbx_township']},
    )
}}
-- depends_on: {{ ref('int_terms') }}
-- 到校情况周报（冻结）: macros/attendance_period_report.sql.
{{ attendance_period_report('week') }}
