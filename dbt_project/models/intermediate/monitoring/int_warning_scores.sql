-- Child x school week: the early-warning score (监测预警) as of the child's last reported
-- day of the week, every part of it, and whether the warning and the plain rule it is
-- compared with would warn. The parts and their points are seeds/warning_parts.csv:
-- units = floor(measure / unit_size), points = least(max_points, points_per_unit x units).
-- A child already in a 疑似辍学 run (current run >= dropout_days) is not warned: the
-- finding has fired. A warning also needs an unexcused day in the last
-- warning_window_days, so the parts that describe the child alone never warn. A child
-- attending two schools in a week is scored on the school where it scores highest.
with child_weeks as (
    select * from {{ ref('int_attendance_child_weeks') }}
),

students as (
    select * from {{ ref('int_student_children') }}
),

school_weeks as (
    select * from {{ ref('int_school_weeks') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

priority_groups as (
    select * from {{ ref('int_child_priority_groups') }}
),

case_findings as (
    select * from {{ ref('int_case_findings') }}
),

actions as (
    select * from {{ ref('stg_quanfan__persuasion_actions') }}
),

warning_parts as (
    select * from {{ ref('warning_parts') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

grades as (
    select distinct on (term_id, student_key) term_id, student_key, grade
    from registrations
    order by term_id, student_key, registry_status_code <> 'enrolled', grade desc
),

first_cases as (
    select child_key, min(term_id) as first_term_id
    from case_findings
    group by child_key
),

first_actions as (
    select child_key, min(action_on) as first_action_on
    from actions
    where child_key is not null
    group by child_key
),

groups as (
    select term_id, child_key, array_agg(priority_group order by priority_group) as priority_groups
    from priority_groups
    where priority_group <> '全部'
    group by term_id, child_key
),

measured as (
    select
        child_weeks.term_id,
        child_weeks.week_start,
        students.child_key,
        child_weeks.school_code,
        child_weeks.student_key,
        child_weeks.week_end_day,
        child_weeks.current_run,
        child_weeks.recent_days,
        child_weeks.recent_unexcused,
        -- whole percentage points the last window's attendance rate is below the term's
        -- before it (needs 5 earlier reported days to say anything); integer arithmetic,
        -- so the figure is exact: earlier rate p/e minus recent rate r/n = (p*n - r*e)/(e*n)
        case
            when child_weeks.days_so_far - child_weeks.recent_days >= 5 then greatest(0, (
                100 * (child_weeks.present_so_far - child_weeks.recent_present) * child_weeks.recent_days
                - 100 * child_weeks.recent_present * (child_weeks.days_so_far - child_weeks.recent_days)
            ) / ((child_weeks.days_so_far - child_weeks.recent_days) * child_weeks.recent_days))
            else 0
        end as drop_points,
        grades.grade,
        case
            when grades.grade between 7 and 9 then '初中'
            when grades.grade between 5 and 6 then '小学高年级'
            when grades.grade between 1 and 4 then '小学低中年级'
        end as stage_band,
        coalesce(groups.priority_groups, '{}'::text[]) as priority_groups,
        children.sex,
        coalesce(children.home_township_code, schools.township_code) as township_code,
        coalesce(first_cases.first_term_id < child_weeks.term_id, false)
        or coalesce(first_actions.first_action_on <= child_weeks.week_end_day, false) as has_earlier_case
    from child_weeks
    inner join students
        on child_weeks.term_id = students.term_id
        and child_weeks.student_key = students.student_key
    left join grades
        on child_weeks.term_id = grades.term_id
        and child_weeks.student_key = grades.student_key
    left join groups
        on child_weeks.term_id = groups.term_id
        and students.child_key = groups.child_key
    left join children
        on child_weeks.term_id = children.term_id
        and students.child_key = children.child_key
    left join schools
        on child_weeks.term_id = schools.term_id
        and child_weeks.school_code = schools.school_code
    left join first_cases
        on students.child_key = first_cases.child_key
    left join first_actions
        on students.child_key = first_actions.child_key
),

parts as (
    select
        measured.term_id,
        measured.week_start,
        measured.child_key,
        measured.school_code,
        part.part,
        part.measure,
        part.shown
    from measured
    cross join lateral (
        values
            ('current_run', measured.current_run, measured.current_run::text),
            ('recent_unexcused', measured.recent_unexcused, measured.recent_unexcused::text),
            ('attendance_drop', measured.drop_points, measured.drop_points::text),
            (
                'priority_group',
                (cardinality(measured.priority_groups) > 0)::integer,
                array_to_string(measured.priority_groups, '、')
            ),
            ('stage', (measured.grade >= 5)::integer, measured.stage_band),
            ('earlier_case', measured.has_earlier_case::integer, '')
    ) as part (part, measure, shown)
    where part.measure > 0
),

scored_parts as (
    select
        parts.*,
        warning_parts.part_label,
        least(
            coalesce(warning_parts.max_points, 2147483647),
            warning_parts.points_per_unit * (parts.measure / warning_parts.unit_size)
        ) as points,
        replace(warning_parts.words, '{v}', parts.shown) as words
    from parts
    inner join warning_parts
        on parts.part = warning_parts.part
    where parts.measure >= warning_parts.unit_size
),

scores as (
    select
        term_id,
        week_start,
        child_key,
        school_code,
        sum(points)::integer as score,
        jsonb_agg(
            jsonb_build_object('part', part, 'label', part_label, 'points', points, 'words', words)
            order by points desc, part
        ) as details
    from scored_parts
    group by term_id, week_start, child_key, school_code
),

week_numbers as (
    select distinct term_id, week_start, week_of_term, week_seq
    from school_weeks
),

ranked as (
    select
        measured.*,
        coalesce(scores.score, 0) as score,
        coalesce(scores.details, '[]'::jsonb) as details,
        row_number() over (
            partition by measured.term_id, measured.week_start, measured.child_key
            order by coalesce(scores.score, 0) desc, measured.current_run desc, measured.school_code
        ) as school_rank
    from measured
    left join scores
        on measured.term_id = scores.term_id
        and measured.week_start = scores.week_start
        and measured.child_key = scores.child_key
        and measured.school_code = scores.school_code
),

final as (
    select
        ranked.term_id,
        ranked.week_start,
        week_numbers.week_of_term,
        week_numbers.week_seq,
        ranked.child_key,
        ranked.school_code,
        ranked.township_code,
        ranked.week_end_day,
        school_weeks.school_day_seq as week_end_seq,
        ranked.current_run,
        ranked.recent_unexcused,
        ranked.drop_points,
        ranked.grade,
        ranked.stage_band,
        ranked.priority_groups,
        ranked.sex,
        ranked.has_earlier_case,
        ranked.score,
        ranked.details,
        ranked.current_run >= {{ var('dropout_days') }} as is_in_run,
        ranked.current_run < {{ var('dropout_days') }}
            and ranked.recent_unexcused >= 1
            and ranked.score >= {{ var('warning_score') }} as is_warned,
        ranked.current_run < {{ var('dropout_days') }}
            and ranked.current_run >= {{ var('warning_baseline_days') }} as is_baseline_warned
    from ranked
    inner join week_numbers
        on ranked.term_id = week_numbers.term_id
        and ranked.week_start = week_numbers.week_start
    -- a week's last reported day off the calendar has no school-day number
    left join school_weeks
        on ranked.term_id = school_weeks.term_id
        and ranked.week_end_day = school_weeks.day
    where ranked.school_rank = 1
)

select * from final
