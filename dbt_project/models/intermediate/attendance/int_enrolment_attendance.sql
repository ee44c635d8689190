-- 在读 registrations at county schools that reported attendance this term, with
-- their attendance: the base of phantom_enrolment and suspected_dropout. A registration
-- taught at home (就读方式 送教上门) is not roll-called, so neither rule applies to it
-- (SPEC §3).
with registrations as (
    select * from {{ ref('int_registrations') }}
),

runs as (
    select * from {{ ref('int_attendance_runs') }}
),

final as (
    select
        registrations.term_id,
        registrations.child_key,
        registrations.student_key,
        registrations.school_code,
        registrations.school_township_code as township_code,
        runs.reported_days,
        runs.present_days,
        runs.excused_days,
        runs.unexcused_days,
        runs.current_unexcused_run,
        runs.longest_unexcused_run,
        runs.last_present_on,
        runs.last_reported_on
    from registrations
    inner join runs
        on registrations.term_id = runs.term_id
        and registrations.school_code = runs.school_code
        and registrations.student_key = runs.student_key
    where registrations.registry_status_code = 'enrolled'
        and registrations.is_county_school
        and registrations.study_mode is distinct from '送教上门'
)

select * from final
