-- 疑似辍学: 在读, has been present this term, but the last N reported school days up
-- to the school's last reported day are all unexcused (N = var dropout_days).
with enrolled as (
    select * from {{ ref('int_enrolment_attendance') }}
),

final as (
    select
        term_id,
        'suspected_dropout' as finding_type,
        child_key,
        school_code,
        township_code,
        jsonb_build_object(
            'summary', '连续 ' || current_unexcused_run || ' 个上课日未到校且未请假（截至学校最后上报日 '
                || last_reported_on || '），最后到校日 ' || last_present_on,
            'feeds', jsonb_build_array('学籍', '考勤'),
            'unexcused_run', current_unexcused_run,
            'threshold', {{ var('dropout_days') }},
            'last_present_on', last_present_on,
            'last_reported_on', last_reported_on
        ) as details
    from enrolled
    where present_days > 0
        and current_unexcused_run >= {{ var('dropout_days') }}
)

select * from final
