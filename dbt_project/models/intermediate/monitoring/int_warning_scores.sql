-- Child x school week: the early-warning score (监测预警) as of the child's last reported
-- day of the week, every part of it, and whether the warning and the plain rule it is
-- compared with would warn. The parts and their points are seeds/warning_parts.csv:
-- units = floor(measure / unit_size), points = least(max_points, points_per_unit x units).
-- A child already in a 疑似辍学 run (current run >= dropout_days) is not warned: the
-- finding has fired. A warning also needs an unexcused day in the last
-- warning_window_days, so the parts that describe the child alone never warn. A child
-- attending two schools in a week is scored on the school where it scores highest. The
-- parts in words (details) are kept for warned weeks only: the 预警名单 shows them.
{#- The parts of the score: (part in seeds/warning_parts.csv, its measure, the value its
    words show), of a child-week row named {row}. One list for the score and the words. -#}
{%- set warning_measures = [
    ('current_run', '{row}.current_run', '{row}.current_run::text'),
    ('recent_unexcused', '{row}.recent_unexcused', '{row}.recent_unexcused::text'),
    ('attendance_drop', '{row}.drop_points', '{row}.drop_points::text'),
    ('priority_group', '(cardinality({row}.priority_groups) > 0)::integer', "array_to_string({row}.priority_groups, '、')"),
    ('stage', '({row}.grade >= 5)::integer', '{row}.stage_band'),
    ('earlier_case', '{row}.has_earlier_case::integer', "''"),
] %}
with student_weeks as (
    select * from {{ ref('int_attendance_student_weeks') }}
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
        student_weeks.term_id,
        student_weeks.week_start,
        students.child_key,
        student_weeks.school_code,
        student_weeks.student_key,
        student_weeks.week_end_day,
        student_weeks.current_run,
        student_weeks.recent_days,
        student_weeks.recent_unexcused,
        -- whole percentage points the last window's attendance rate is below the term's
        -- before it (needs 5 earlier reported days to say anything); integer arithmetic,
        -- so the figure is exact: earlier rate p/e minus recent rate r/n = (p*n - r*e)/(e*n)
        case
            when student_weeks.days_so_far - student_weeks.recent_days >= 5 then greatest(0, (
                100 * (student_weeks.present_so_far - student_weeks.recent_present) * student_weeks.recent_days
                - 100 * student_weeks.recent_present * (student_weeks.days_so_far - student_weeks.recent_days)
            ) / ((student_weeks.days_so_far - student_weeks.recent_days) * student_weeks.recent_days))
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
        coalesce(first_cases.first_term_id < student_weeks.term_id, false)
        or coalesce(first_actions.first_action_on <= student_weeks.week_end_day, false) as has_earlier_case
    from student_weeks
    inner join students
        on student_weeks.term_id = students.term_id
        and student_weeks.student_key = students.student_key
    left join grades
        on student_weeks.term_id = grades.term_id
        and student_weeks.student_key = grades.student_key
    left join groups
        on student_weeks.term_id = groups.term_id
        and students.child_key = groups.child_key
    left join children
        on student_weeks.term_id = children.term_id
        and students.child_key = children.child_key
    left join schools
        on student_weeks.term_id = schools.term_id
        and student_weeks.school_code = schools.school_code
    left join first_cases
        on students.child_key = first_cases.child_key
    left join first_actions
        on students.child_key = first_actions.child_key
),

-- the seed's points per part in one row, so each child-week is scored by arithmetic on
-- its own row (a part the seed does not list scores nothing)
part_points as (
    select
        {%- for part, measure, shown in warning_measures %}
        max(unit_size) filter (where part = '{{ part }}') as {{ part }}__unit_size,
        max(points_per_unit) filter (where part = '{{ part }}') as {{ part }}__points_per_unit,
        coalesce(max(max_points) filter (where part = '{{ part }}'), 2147483647) as {{ part }}__max_points
        {{- "," if not loop.last }}
        {%- endfor %}
    from warning_parts
),

scored as (
    select
        measured.*,
        (
            {%- for part, measure_of, shown_of in warning_measures %}
            {%- set measure = measure_of | replace('{row}', 'measured') %}
            case
                when ({{ measure }}) > 0 and ({{ measure }}) >= part_points.{{ part }}__unit_size
                    then least(
                        part_points.{{ part }}__max_points,
                        part_points.{{ part }}__points_per_unit * (({{ measure }}) / part_points.{{ part }}__unit_size)
                    )
                else 0
            end
            {{- " +" if not loop.last }}
            {%- endfor %}
        )::integer as score
    from measured
    cross join part_points
),

week_numbers as (
    select distinct term_id, week_start, week_of_term, week_seq
    from school_weeks
),

ranked as (
    select
        scored.*,
        scored.current_run >= {{ var('dropout_days') }} as is_in_run,
        scored.current_run < {{ var('dropout_days') }}
            and scored.recent_unexcused >= 1
            and scored.score >= {{ var('warning_score') }} as is_warned,
        scored.current_run < {{ var('dropout_days') }}
            and scored.current_run >= {{ var('warning_baseline_days') }} as is_baseline_warned,
        row_number() over (
            partition by scored.term_id, scored.week_start, scored.child_key
            order by scored.score desc, scored.current_run desc, scored.school_code
        ) as school_rank
    from scored
),

-- the parts in words, for the warned weeks only (the 预警名单 shows them)
details as (
    select
        ranked.term_id,
        ranked.week_start,
        ranked.child_key,
        jsonb_agg(
            jsonb_build_object(
                'part', scored_part.part,
                'label', scored_part.part_label,
                'points', scored_part.points,
                'words', scored_part.words
            )
            order by scored_part.points desc, scored_part.part
        ) as details
    from ranked
    cross join lateral (
        select
            measures.part,
            warning_parts.part_label,
            least(
                coalesce(warning_parts.max_points, 2147483647),
                warning_parts.points_per_unit * (measures.measure / warning_parts.unit_size)
            ) as points,
            replace(warning_parts.words, '{v}', measures.shown) as words
        from (
            values
                {%- for part, measure, shown in warning_measures %}
                ('{{ part }}', {{ measure | replace('{row}', 'ranked') }}, {{ shown | replace('{row}', 'ranked') }})
                {{- "," if not loop.last }}
                {%- endfor %}
        ) as measures (part, measure, shown)
        inner join warning_parts
            on measures.part = warning_parts.part
        where measures.measure > 0
            and measures.measure >= warning_parts.unit_size
    ) as scored_part
    where ranked.is_warned
        and ranked.school_rank = 1
    group by ranked.term_id, ranked.week_start, ranked.child_key
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
        details.details,
        ranked.is_in_run,
        ranked.is_warned,
        ranked.is_baseline_warned
    from ranked
    inner join week_numbers
        on ranked.term_id = week_numbers.term_id
        and ranked.week_start = week_numbers.week_start
    -- a week's last reported day off the calendar has no school-day number
    left join school_weeks
        on ranked.term_id = school_weeks.term_id
        and ranked.week_end_day = school_weeks.day
    left join details
        on ranked.term_id = details.term_id
        and ranked.week_start = details.week_start
        and ranked.child_key = details.child_key
    where ranked.school_rank = 1
)

select * from final
