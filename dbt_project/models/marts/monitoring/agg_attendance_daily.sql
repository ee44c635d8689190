{{ config(**frozen_period(['term_id', 'period_start'])) }}
-- depends_on: {{ ref('int_terms') }}
-- 到校情况日报（冻结，随周关闭）: macros/attendance_period_report.sql.
{{ attendance_period_report('day') }}
