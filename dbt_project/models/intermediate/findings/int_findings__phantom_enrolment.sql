-- 空挂学籍: 在读 at a county school that reported attendance, never present there.
with enrolled as (
    select * from {{ ref('int_enrolment_attendance') }}
),

final as (
    select
        term_id,
        'phantom_enrolment' as finding_type,
        child_key,
        school_code,
        township_code,
        jsonb_build_object(
            'summary', '学籍在读但本学期考勤无一天到校：学校上报考勤 ' || reported_days || ' 天，'
                || '该生旷课或无记录 ' || unexcused_days || ' 天，请假 ' || excused_days || ' 天',
            'feeds', jsonb_build_array('学籍', '考勤'),
            'reported_days', reported_days,
            'excused_days', excused_days,
            'unexcused_days', unexcused_days
        ) as details
    from enrolled
    where present_days = 0
)

select * from final
