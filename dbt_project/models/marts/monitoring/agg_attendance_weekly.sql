{{ config(**frozen_period(['term_id', 'period_start'])) }}
-- depends_on: {{ ref('int_terms') }}
-- 到校情况周报（冻结）: macros/attendance_period_report.sql.
{{ attendance_period_report('week') }}
