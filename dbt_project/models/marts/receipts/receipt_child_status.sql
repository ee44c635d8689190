{{ config(materialized='ephemeral') }}
-- What every 回执 (receipt to a department, kcbx/outputs/receipts.py) says about a child in
-- a term: school, 学段, 学籍状态, 就学状况, actual placement, findings and case status. One
-- row per term and child of fct_enrolment, with the children a department listed whom no
-- county register knows; ephemeral (no relation of its own): each receipt_* mart reads it.
--
-- 就学状况, the first that applies:
--   在读（送教上门） / 在读 / 休学    enrolled (在读 or 休学 at any school), home taught or not;
--   缓免学                            exempt (延缓入学/免于入学), whether approved or not (an
--                                     unapproved one is a finding beside it);
--   已完成义务教育                    毕业 in grade 9;
--   非义务教育适龄                    not in the compulsory cohort;
--   在外就读（已核实）                a 去向核实 of the school year confirms schooling elsewhere;
--   去向已核实（死亡/迁出）           a 去向核实 ends the county's responsibility;
--   户籍死亡 / 户籍迁出 / 户籍注销   the 户籍 is closed;
--   无户籍学籍记录                    on a department's list only: no 户籍, no 学籍 row;
--   未在校                            otherwise (an 适龄失学 child, or one registered only as
--                                     转出/辍学/小学毕业 outside the county's responsibility).
-- Actual placement (残联's 三类安置, macros/disability_placement.sql): 送教上门,
-- 特殊教育学校, 随班就读, 缓免学 (a lawful, approved or approvable decision, and what the
-- 安置建议 暂缓入学 asks for) or 未安置.
with enrolment as (
    select * from {{ ref('fct_enrolment') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

terms as (
    select * from {{ ref('dim_term') }}
),

schools as (
    select * from {{ ref('dim_school') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

findings as (
    select * from {{ ref('fct_findings') }}
),

cases as (
    select * from {{ ref('ledger_cases') }}
),

-- the birth date and 防返贫监测 township of a listed child, from its identity number and
-- 区划代码 (a child no register knows has no other)
listed_children as (
    select * from {{ ref('int_listed_children') }}
),

-- each finding type once per child and term (a child x school finding may repeat)
child_findings as (
    select
        term_id,
        child_key,
        string_agg(finding_label, '、' order by finding_type) as findings
    from (
        select distinct term_id, child_key, finding_type, finding_label
        from findings
        where child_key is not null
    ) as distinct_findings
    group by term_id, child_key
),

-- the child's case as it stood at the term's end: the open one, else the latest
child_cases as (
    select distinct on (term_id, child_key) term_id, child_key, case_status, case_type_label
    from cases
    order by term_id, child_key, is_closed, opened_on desc, case_id
),

joined as (
    select
        enrolment.term_id,
        enrolment.child_key,
        coalesce(enrolment.township_code, listed_children.township_code) as township_code,
        enrolment.school_code,
        enrolment.grade,
        coalesce(
            enrolment.stage,
            {{ stage_of(expected_grade('listed_children.birth_date', 'terms.school_year')) }}
        ) as stage,
        enrolment.registry_status,
        enrolment.study_mode,
        enrolment.registrations,
        enrolment.is_enrolled,
        enrolment.is_exempt,
        enrolment.has_completed,
        enrolment.in_cohort
        or coalesce(
            listed_children.birth_date between terms.cohort_first_birth and terms.cohort_last_birth, false
        ) as in_cohort,
        children.hukou_status,
        children.is_confirmed_elsewhere,
        children.is_confirmed_gone,
        schools.school_name,
        schools.school_type,
        child_findings.findings,
        child_cases.case_status,
        child_cases.case_type_label
    from enrolment
    inner join terms
        on enrolment.term_id = terms.term_id
    inner join children
        on enrolment.term_id = children.term_id
        and enrolment.child_key = children.child_key
    left join listed_children
        on enrolment.term_id = listed_children.term_id
        and enrolment.child_key = listed_children.child_key
    left join schools
        on enrolment.school_code = schools.school_code
    left join child_findings
        on enrolment.term_id = child_findings.term_id
        and enrolment.child_key = child_findings.child_key
    left join child_cases
        on enrolment.term_id = child_cases.term_id
        and enrolment.child_key = child_cases.child_key
),

final as (
    select
        joined.term_id,
        joined.child_key,
        joined.township_code,
        coalesce(townships.region_name, '未知乡镇') as sheet_name,
        joined.school_code,
        -- a school outside the county's schools feed is shown by its code
        coalesce(joined.school_name, '县外学校（' || joined.school_code || '）') as school_name,
        joined.grade,
        joined.stage,
        coalesce(joined.registry_status, '无学籍') as registry_status,
        joined.study_mode,
        joined.in_cohort,
        case when joined.in_cohort then '是' else '否' end as in_cohort_label,
        case
            when joined.is_enrolled and joined.study_mode = '送教上门' then '在读（送教上门）'
            when joined.is_enrolled then joined.registry_status
            when joined.is_exempt then '缓免学'
            when joined.has_completed then '已完成义务教育'
            when not joined.in_cohort then '非义务教育适龄'
            when joined.is_confirmed_elsewhere then '在外就读（已核实）'
            when joined.is_confirmed_gone then '去向已核实（死亡/迁出）'
            when joined.hukou_status in ('死亡', '迁出', '注销') then '户籍' || joined.hukou_status
            when joined.hukou_status is null and joined.registrations = 0 then '无户籍学籍记录'
            else '未在校'
        end as schooling_status,
        {{ disability_placement('joined.is_enrolled', 'joined.study_mode', 'joined.school_type', 'joined.is_exempt') }}
            as actual_placement,
        coalesce(joined.findings, '无') as findings,
        coalesce(joined.case_status || '（' || joined.case_type_label || '）', '无') as case_status
    from joined
    left join regions as townships
        on joined.township_code = townships.region_code
)

select * from final
