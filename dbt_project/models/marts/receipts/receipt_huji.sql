-- 回执·公安: the 户籍 records the county's registers contradict, one row per term, child,
-- school and contradiction (the sheet it is on):
--   户籍注销仍在籍  户籍 死亡/迁出/注销 but 学籍 在读 (the deregistered_enrolled finding);
--   户籍失踪仍到校  户籍 失踪 but present (出勤/迟到) at a school on at least one day this term.
-- With the school, the 学籍 there and the term's present days there (fct_attendance_term).
with findings as (
    select * from {{ ref('fct_findings') }}
    where finding_type = 'deregistered_enrolled'
),

household as (
    select * from {{ ref('int_household_status') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

attendance as (
    select * from {{ ref('fct_attendance_term') }}
),

schools as (
    select * from {{ ref('dim_school') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

-- the child's attendance at a school this term (a child may have had two 学籍号 there)
present as (
    select
        term_id,
        child_key,
        school_code,
        sum(present_days) as present_days,
        max(last_present_on) as last_present_on
    from attendance
    group by term_id, child_key, school_code
),

-- the child's 学籍 at a school: the most active one (on the roll first, 在读 before 休学;
-- then the highest grade)
registered as (
    select distinct on (term_id, child_key, school_code)
        term_id, child_key, school_code, registry_status, grade
    from registrations
    order by
        term_id,
        child_key,
        school_code,
        case when is_on_roll then registry_rank end nulls last,
        grade desc
),

contradictions as (
    select term_id, child_key, school_code, '户籍注销仍在籍' as contradiction
    from findings
    union all
    select present.term_id, present.child_key, present.school_code, '户籍失踪仍到校'
    from present
    inner join household
        on present.term_id = household.term_id
        and present.child_key = household.child_key
    where household.person_status = '失踪'
        and present.present_days > 0
),

final as (
    select
        contradictions.term_id,
        household.hukou_township_code as township_code,
        contradictions.contradiction as sheet_name,
        contradictions.child_key,
        contradictions.school_code,
        villages.region_name as hukou_village,
        household.person_status as hukou_status,
        household.status_changed_on as hukou_changed_on,
        coalesce(schools.school_name, '县外学校（' || contradictions.school_code || '）') as school_name,
        coalesce(registered.registry_status, '无学籍') as registry_status,
        registered.grade,
        coalesce(present.present_days, 0) as present_days,
        present.last_present_on,
        '户籍状态为' || household.person_status
            || coalesce('（' || household.status_changed_on || '）', '')
            || case
                when contradictions.contradiction = '户籍注销仍在籍' then '，但学籍仍为在读'
                else '，但本学期到校' || present.present_days || '天'
            end
            || '，请核实户籍' as summary
    from contradictions
    inner join household
        on contradictions.term_id = household.term_id
        and contradictions.child_key = household.child_key
    left join registered
        on contradictions.term_id = registered.term_id
        and contradictions.child_key = registered.child_key
        and contradictions.school_code = registered.school_code
    left join present
        on contradictions.term_id = present.term_id
        and contradictions.child_key = present.child_key
        and contradictions.school_code = present.school_code
    left join schools
        on contradictions.school_code = schools.school_code
    left join regions as villages
        on household.hukou_region_code = villages.region_code
)

select * from final
