{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- 入学率, 辍学率 and 巩固率 per term, 学段 (小学/初中), unit (the county, unit_level county
-- with township_code null, and each township) and 重点群体. The seeds name 小学高年级 and
-- 初中 as the stages to watch. Definitions as in agg_indicators, per stage:
--   入学率 / 辍学率: over the 适龄儿童 of the stage (fct_enrolment.stage).
--   巩固率 小学 = grade-6-age children enrolled ÷ the same birth cohort's grade-1 enrolment
--          5 school years earlier when that term is loaded (历史对比), else ÷ all
--          grade-6-age 适龄儿童 (同龄在校率);
--   巩固率 初中 = grade-9-age children enrolled or graduated ÷ their grade-7 enrolment 2
--          school years earlier (历史对比), else ÷ all grade-9-age 适龄儿童 (同龄在校率).
with enrolment as (
    select * from {{ ref('fct_enrolment') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),

groups as (
    select * from {{ ref('int_child_priority_groups') }}
),


child_findings as (
    select * from {{ ref('int_child_findings') }}
),

measured as (
    select
        enrolment.term_id,
        enrolment.child_key,
        enrolment.stage,
        enrolment.township_code,
        enrolment.is_enrolled,
        enrolment.has_completed,
        children.has_county_registration and not enrolment.is_exempt and not enrolment.has_completed as is_on_roll,
        coalesce(child_findings.is_out_of_school, false) as is_out_of_school,
        coalesce(child_findings.is_not_attending, false) as is_not_attending,
        {{ expected_grade('children.birth_date', 'terms.school_year') }} as age_grade
    from enrolment
    inner join children
        on enrolment.term_id = children.term_id
        and enrolment.child_key = children.child_key
    inner join terms
        on enrolment.term_id = terms.term_id
    left join child_findings
        on enrolment.term_id = child_findings.term_id
        and enrolment.child_key = child_findings.child_key
    where enrolment.in_cohort
        and enrolment.is_county_responsibility
),

-- per unit and group: the stage's children, and the age bands 巩固率 compares
counted as (
    select
        measured.term_id,
        measured.township_code,
        grouping(measured.township_code) = 1 as is_county,
        groups.priority_group,
        {%- for stage in ['小学', '初中'] %}
        count(*) filter (where measured.stage = '{{ stage }}') as cohort_{{ loop.index }},
        count(*) filter (where measured.stage = '{{ stage }}' and measured.is_enrolled) as enrolled_{{ loop.index }},
        count(*) filter (where measured.stage = '{{ stage }}' and measured.is_out_of_school) as out_{{ loop.index }},
        count(*) filter (where measured.stage = '{{ stage }}' and measured.is_not_attending)
            as not_attending_{{ loop.index }},
        count(*) filter (where measured.stage = '{{ stage }}' and measured.is_on_roll) as on_roll_{{ loop.index }},
        count(*) filter (
            where measured.stage = '{{ stage }}' and measured.is_on_roll
            and (measured.is_not_attending or measured.is_out_of_school)
        ) as dropouts_{{ loop.index }},
        {%- endfor %}
        count(*) filter (where measured.age_grade = 1 and measured.is_enrolled) as grade1_age_enrolled,
        count(*) filter (where measured.age_grade = 7 and measured.is_enrolled) as grade7_age_enrolled,
        count(*) filter (where measured.age_grade = 6) as grade6_age_children,
        count(*) filter (where measured.age_grade = 6 and measured.is_enrolled) as grade6_age_retained,
        count(*) filter (where measured.age_grade = 9) as grade9_age_children,
        count(*) filter (where measured.age_grade = 9 and (measured.is_enrolled or measured.has_completed))
            as grade9_age_retained
    from measured
    inner join groups
        on measured.term_id = groups.term_id
        and measured.child_key = groups.child_key
    group by grouping sets (
        (measured.term_id, measured.township_code, groups.priority_group),
        (measured.term_id, groups.priority_group)
    )
),

with_history as (
    select
        counted.*,
        primary_start.grade1_age_enrolled as history_grade1_enrolled,
        junior_start.grade7_age_enrolled as history_grade7_enrolled
    from counted
    inner join terms
        on counted.term_id = terms.term_id
    left join terms as primary_terms
        on primary_terms.school_year = terms.school_year - 5
        and primary_terms.term_number = terms.term_number
    left join counted as primary_start
        on primary_start.term_id = primary_terms.term_id
        and primary_start.is_county = counted.is_county
        and primary_start.township_code is not distinct from counted.township_code
        and primary_start.priority_group = counted.priority_group
    left join terms as junior_terms
        on junior_terms.school_year = terms.school_year - 2
        and junior_terms.term_number = terms.term_number
    left join counted as junior_start
        on junior_start.term_id = junior_terms.term_id
        and junior_start.is_county = counted.is_county
        and junior_start.township_code is not distinct from counted.township_code
        and junior_start.priority_group = counted.priority_group
),

stages as (
    select
        term_id, is_county, township_code, priority_group, '小学' as stage,
        cohort_1 as cohort_children, enrolled_1 as enrolled_children, out_1 as out_of_school_children,
        not_attending_1 as not_attending_children, on_roll_1 as on_roll_children, dropouts_1 as dropout_children,
        grade6_age_retained as retained_children, history_grade1_enrolled as history_start_enrolled,
        grade6_age_children as same_age_children
    from with_history
    union all
    select
        term_id, is_county, township_code, priority_group, '初中' as stage,
        cohort_2, enrolled_2, out_2, not_attending_2, on_roll_2, dropouts_2,
        grade9_age_retained, history_grade7_enrolled, grade9_age_children
    from with_history
),

final as (
    select
        term_id,
        stage,
        case when is_county then 'county' else 'township' end as unit_level,
        township_code,
        priority_group,
        cohort_children,
        enrolled_children,
        round(enrolled_children::numeric / nullif(cohort_children, 0), 4) as enrolment_rate,
        out_of_school_children,
        not_attending_children,
        on_roll_children,
        dropout_children,
        round(dropout_children::numeric / nullif(on_roll_children, 0), 4) as dropout_rate,
        retained_children,
        history_start_enrolled,
        round(
            retained_children::numeric / nullif(coalesce(nullif(history_start_enrolled, 0), same_age_children), 0), 4
        ) as consolidation_rate,
        case when history_start_enrolled > 0 then '历史对比' else '同龄在校率' end as consolidation_method
    from stages
    where cohort_children > 0 or same_age_children > 0
)

select * from final
