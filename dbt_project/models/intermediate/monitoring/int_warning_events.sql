-- What a warning is proven against (agg_warning_backtest): the school day a child's
-- unexcused run reached the 疑似辍学 threshold - the day the rule would fire if run that
-- night; a never-present (空挂学籍) child's run reaches it on its third reported day too -
-- and the first school day of a later term whose comparison found a child 适龄失学 after
-- it had attended in an earlier term.
with student_weeks as (
    select * from {{ ref('int_attendance_student_weeks') }}
),

students as (
    select * from {{ ref('int_student_children') }}
),

school_weeks as (
    select * from {{ ref('int_school_weeks') }}
),

findings as (
    select * from {{ ref('int_findings') }}
),

run_events as (
    select distinct
        student_weeks.term_id,
        students.child_key,
        reached.event_on,
        'suspected_dropout' as event_kind
    from student_weeks
    inner join students
        on student_weeks.term_id = students.term_id
        and student_weeks.student_key = students.student_key
    cross join lateral unnest(student_weeks.run_reached_on) as reached (event_on)
),

attended as (
    select students.child_key, min(student_weeks.term_id) as first_term_id
    from student_weeks
    inner join students
        on student_weeks.term_id = students.term_id
        and student_weeks.student_key = students.student_key
    group by students.child_key
),

term_starts as (
    select term_id, min(day) as first_school_day
    from school_weeks
    group by term_id
),

later_term_events as (
    select distinct
        findings.term_id,
        findings.child_key,
        term_starts.first_school_day as event_on,
        'out_of_school' as event_kind
    from findings
    inner join attended
        on findings.child_key = attended.child_key
        and attended.first_term_id < findings.term_id
    inner join term_starts
        on findings.term_id = term_starts.term_id
    where findings.finding_type = 'out_of_school'
),

events as (
    select * from run_events
    union all
    select * from later_term_events
),

final as (
    select
        events.term_id,
        events.child_key,
        events.event_on,
        events.event_kind,
        school_weeks.school_day_seq as event_seq,
        school_weeks.week_seq,
        -- the child's event before this one: a warning must come after it to foresee this one
        lag(school_weeks.school_day_seq) over (
            partition by events.child_key order by school_weeks.school_day_seq
        ) as previous_event_seq
    from events
    inner join school_weeks
        on events.term_id = school_weeks.term_id
        and events.event_on = school_weeks.day
)

select * from final
