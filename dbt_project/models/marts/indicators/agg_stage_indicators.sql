{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- 入学率, 辍学率 and out-of-school counts per term, 学段 (小学/初中) and unit: the county
-- (unit_level county, township_code null) and each township. The seeds name 小学高年级 and
-- 初中 as the stages to watch; scope and 入学率 as in agg_indicators (适龄儿童 = county-
-- responsibility children of the compulsory cohort).
with enrolment as (
    select * from {{ ref('fct_enrolment') }}
    where in_cohort and is_county_responsibility
),

children as (
    select * from {{ ref('int_child_terms') }}
),

findings as (
    select * from {{ ref('fct_findings') }}
),

finding_types as (
    select * from {{ ref('finding_types') }}
),

child_findings as (
    select
        findings.term_id,
        findings.child_key,
        bool_or(findings.finding_type = 'out_of_school') as is_out_of_school,
        bool_or(finding_types.is_not_attending) as is_not_attending
    from findings
    inner join finding_types
        on findings.finding_type = finding_types.finding_type
    where findings.child_key is not null
    group by findings.term_id, findings.child_key
),

counted as (
    select
        enrolment.term_id,
        enrolment.stage,
        enrolment.township_code,
        grouping(enrolment.township_code) = 1 as is_county,
        count(*) as cohort_children,
        count(*) filter (where enrolment.is_enrolled) as enrolled_children,
        count(*) filter (where child_findings.is_out_of_school) as out_of_school_children,
        count(*) filter (where child_findings.is_not_attending) as not_attending_children,
        -- 辍学率 as agg_indicators counts it: dropouts among children on a county school's roll
        count(*) filter (
            where children.has_county_registration and not enrolment.is_exempt and not enrolment.has_completed
        ) as on_roll_children,
        count(*) filter (
            where children.has_county_registration and not enrolment.is_exempt and not enrolment.has_completed
            and (child_findings.is_not_attending or child_findings.is_out_of_school)
        ) as dropout_children
    from enrolment
    inner join children
        on enrolment.term_id = children.term_id
        and enrolment.child_key = children.child_key
    left join child_findings
        on enrolment.term_id = child_findings.term_id
        and enrolment.child_key = child_findings.child_key
    where enrolment.stage is not null
    group by grouping sets ((enrolment.term_id, enrolment.stage, enrolment.township_code), (enrolment.term_id, enrolment.stage))
),

final as (
    select
        term_id,
        stage,
        case when is_county then 'county' else 'township' end as unit_level,
        township_code,
        cohort_children,
        enrolled_children,
        round(enrolled_children::numeric / nullif(cohort_children, 0), 4) as enrolment_rate,
        out_of_school_children,
        not_attending_children,
        on_roll_children,
        dropout_children,
        round(dropout_children::numeric / nullif(on_roll_children, 0), 4) as dropout_rate
    from counted
)

select * from final
