{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- 控辍保学 indicators per term, reporting unit (county / township / school) and 重点群体.
-- Scope: county-responsibility children of the compulsory cohort (SPEC §3) — 适龄儿童.
--   入学率 enrolment_rate   = enrolled (学籍 在读/休学) ÷ 适龄儿童 (SPEC §4).
--   辍学率 dropout_rate     = dropouts ÷ 适龄儿童 on a county school's roll (not exempt, not
--                            graduated); dropouts are 空挂学籍 or 疑似辍学 findings, or
--                            适龄失学 of a child who has a county 学籍 (left, rather than
--                            never enrolled).
--   巩固率 consolidation_rate = grade-9-age children enrolled or graduated ÷ the same birth
--                            cohort's grade-1 enrolment 8 school years earlier when that
--                            term is in the warehouse (method 历史对比); otherwise ÷ all
--                            grade-9-age 适龄儿童 (method 同龄在校率, a proxy: the share of
--                            that age group still in school).
-- Rates are fractions (0.9703 = 97.03%), null when the denominator is 0.
with children as (
    select * from {{ ref('int_child_terms') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),


units as (
    select * from {{ ref('int_indicator_units') }}
),

groups as (
    select * from {{ ref('int_child_priority_groups') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

child_findings as (
    select * from {{ ref('int_child_findings') }}
),

measured as (
    select
        children.term_id,
        children.child_key,
        children.in_cohort and children.is_county_responsibility as is_cohort,
        children.is_enrolled,
        children.is_exempt,
        children.has_completed,
        children.has_county_registration,
        coalesce(child_findings.is_out_of_school, false) as is_out_of_school,
        coalesce(child_findings.is_not_attending, false) as is_not_attending,
        children.birth_date between make_date(terms.school_year - 15, 9, 1)
        and make_date(terms.school_year - 14, 8, 31) as is_grade9_age,
        children.birth_date between make_date(terms.school_year - 7, 9, 1)
        and make_date(terms.school_year - 6, 8, 31) as is_grade1_age
    from children
    inner join terms on children.term_id = terms.term_id
    left join child_findings
        on children.term_id = child_findings.term_id
        and children.child_key = child_findings.child_key
),

flagged as (
    select
        *,
        is_cohort and is_enrolled as counts_enrolled,
        is_cohort and has_county_registration and not is_exempt and not has_completed as counts_on_roll,
        is_cohort and (is_not_attending or (is_out_of_school and has_county_registration)) as counts_dropout
    from measured
),

aggregated as (
    select
        flagged.term_id,
        units.unit_level,
        units.unit_code,
        groups.priority_group,
        count(*) filter (where flagged.is_cohort) as cohort_children,
        count(*) filter (where flagged.counts_enrolled) as enrolled_children,
        count(*) filter (where flagged.is_cohort and flagged.is_exempt) as exempt_children,
        count(*) filter (where flagged.is_cohort and flagged.has_completed) as completed_children,
        count(*) filter (where flagged.is_cohort and flagged.is_out_of_school) as out_of_school_children,
        count(*) filter (where flagged.counts_on_roll) as on_roll_children,
        count(*) filter (where flagged.counts_dropout and flagged.counts_on_roll) as dropout_children,
        count(*) filter (where flagged.is_cohort and flagged.is_grade9_age) as grade9_age_children,
        count(*) filter (
            where flagged.is_cohort and flagged.is_grade9_age and (flagged.is_enrolled or flagged.has_completed)
        ) as grade9_age_retained,
        count(*) filter (where flagged.is_cohort and flagged.is_grade1_age and flagged.is_enrolled)
            as grade1_age_enrolled
    from flagged
    inner join units
        on flagged.term_id = units.term_id
        and flagged.child_key = units.child_key
    inner join groups
        on flagged.term_id = groups.term_id
        and flagged.child_key = groups.child_key
    group by flagged.term_id, units.unit_level, units.unit_code, groups.priority_group
),

with_history as (
    select
        aggregated.*,
        history.grade1_age_enrolled as history_grade1_enrolled
    from aggregated
    inner join terms on aggregated.term_id = terms.term_id
    left join terms as history_terms
        on history_terms.school_year = terms.school_year - 8
        and history_terms.term_number = terms.term_number
    left join aggregated as history
        on history.term_id = history_terms.term_id
        and history.unit_level = aggregated.unit_level
        and history.unit_code = aggregated.unit_code
        and history.priority_group = aggregated.priority_group
),

final as (
    select
        with_history.term_id,
        with_history.unit_level,
        with_history.unit_code,
        case with_history.unit_level
            when 'township' then with_history.unit_code
            when 'school' then schools.township_code
        end as township_code,
        with_history.priority_group,
        with_history.cohort_children,
        with_history.enrolled_children,
        with_history.exempt_children,
        with_history.completed_children,
        with_history.out_of_school_children,
        with_history.on_roll_children,
        with_history.dropout_children,
        with_history.grade9_age_children,
        with_history.grade9_age_retained,
        with_history.history_grade1_enrolled,
        round(with_history.enrolled_children::numeric / nullif(with_history.cohort_children, 0), 4)
            as enrolment_rate,
        round(with_history.dropout_children::numeric / nullif(with_history.on_roll_children, 0), 4)
            as dropout_rate,
        round(
            with_history.grade9_age_retained::numeric
            / nullif(coalesce(nullif(with_history.history_grade1_enrolled, 0), with_history.grade9_age_children), 0),
            4
        ) as consolidation_rate,
        case when with_history.history_grade1_enrolled > 0 then '历史对比' else '同龄在校率' end
            as consolidation_method
    from with_history
    left join schools
        on with_history.unit_level = 'school'
        and with_history.term_id = schools.term_id
        and with_history.unit_code = schools.school_code
)

select * from final
