{{ config(grants={'select': ['kcbx_auditor', 'kcbx_admin']}) }}
-- 入学通知名单: the children the bureau sends an 入学通知书 before the autumn census of the
-- coming school year (Y+1, Y the current school year's start), one row per spring term
-- (N=2) and child; the writer (kcbx/outputs/notices.py) adds names and masked numbers from
-- pii.child_identity by child_key. Decisions:
--   一年级入学: every child with 户籍 正常 (latest status of the term) who reaches grade-1
--     age next school year - born (Y+1-7)-09-01 .. (Y+1-6)-08-31, SPEC §3's grade rule for
--     school year Y+1 (macros/terms.sql expected_grade) - the county is responsible for
--     (no confirmed 死亡/迁出) and is not already 在读/休学 anywhere (an early starter needs
--     no notice). 失踪/死亡/迁出/注销 户籍: no address to send a notice to, or not the county's.
--   升入七年级: every child whose 学籍 at a county school is grade 6 and 在读/休学 this spring
--     (graduates in July), or grade 6 毕业 dated in this school year (or undated, when its
--     age is grade 6 or younger) - SPEC's "grade-7 age from 小学 graduates", by registration
--     not by age: a child held back or ahead goes on with its class. Not listed: a child
--     already 在读/休学 in grade 7-9 or with a grade-9 毕业, one the county is not responsible
--     for, and 小学毕业 of an earlier school year (小学毕业未升学, an out_of_school finding).
--   township: the child's home township (户籍, else its county school's); sheet_name its name.
--   对口学校 (catchment): the township's one public (公办, or 举办者 not given) 小学 for
--     grade 1 / 初中 for grade 7, a 九年一贯制 school when the township has no school of the
--     plain type; empty when the township has several candidates (the township decides).
with terms as (
    select * from {{ ref('int_terms') }}
    where term_number = 2
),

children as (
    select * from {{ ref('int_child_terms') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

first_graders as (
    select
        children.term_id,
        children.child_key,
        1 as entry_grade,
        '户籍（正常）' as basis,
        null::text as current_school_code
    from children
    inner join terms
        on children.term_id = terms.term_id
    where children.hukou_status = '正常'
        and children.is_county_responsibility
        and not children.is_enrolled
        and {{ expected_grade('children.birth_date', 'terms.school_year + 1') }} = 1
),

-- children already in junior school (a second, junior registration) or finished
junior_or_done as (
    select distinct term_id, child_key
    from registrations
    where (is_on_roll and grade between 7 and 9)
        or (registry_status_code = 'graduated' and grade = 9)
),

primary_leavers as (
    select distinct on (registrations.term_id, registrations.child_key)
        registrations.term_id,
        registrations.child_key,
        7 as entry_grade,
        '学籍（六年级' || registrations.registry_status || '）' as basis,
        registrations.school_code as current_school_code
    from registrations
    inner join terms
        on registrations.term_id = terms.term_id
    inner join children
        on registrations.term_id = children.term_id
        and registrations.child_key = children.child_key
    where registrations.is_county_school
        and registrations.grade = 6
        and children.is_county_responsibility
        and (
            registrations.is_on_roll
            or (
                registrations.registry_status_code = 'graduated'
                and (
                    registrations.status_changed_on >= make_date(terms.school_year, 9, 1)
                    or (
                        registrations.status_changed_on is null
                        and {{ expected_grade('children.birth_date', 'terms.school_year') }} <= 6
                    )
                )
            )
        )
        and not exists (
            select 1 from junior_or_done
            where junior_or_done.term_id = registrations.term_id
                and junior_or_done.child_key = registrations.child_key
        )
    order by
        registrations.term_id,
        registrations.child_key,
        -- 在读 over 休学 over 毕业 (the only statuses left here)
        registrations.registry_rank,
        registrations.school_code
),

starters as (
    -- a child on both lists (not possible on schedule) is listed once, for grade 7
    select distinct on (term_id, child_key) *
    from (
        select * from primary_leavers
        union all
        select * from first_graders
    ) as listed
    order by term_id, child_key, entry_grade desc
),

-- per township and entry grade: the public schools that take that grade
candidates as (
    select
        schools.term_id,
        schools.township_code,
        grades.entry_grade,
        schools.school_code,
        schools.school_name,
        schools.school_type = grades.plain_type as is_plain_type
    from schools
    inner join (values (1, '小学'), (7, '初中')) as grades (entry_grade, plain_type)
        on schools.school_type in (grades.plain_type, '九年一贯制')
    where coalesce(schools.operator, '公办') = '公办'
),

catchments as (
    select term_id, township_code, entry_grade, min(school_code) as school_code, min(school_name) as school_name
    from candidates
    where is_plain_type
        or not exists (
            select 1 from candidates as plain
            where plain.term_id = candidates.term_id
                and plain.township_code = candidates.township_code
                and plain.entry_grade = candidates.entry_grade
                and plain.is_plain_type
        )
    group by term_id, township_code, entry_grade
    having count(*) = 1
),

final as (
    select
        starters.term_id,
        starters.child_key,
        children.home_township_code as township_code,
        coalesce(townships.region_name, '未知乡镇') as sheet_name,
        starters.entry_grade,
        case starters.entry_grade when 1 then '一年级入学' else '升入七年级' end as entry_label,
        (terms.school_year + 1) || '-' || (terms.school_year + 2) as entry_school_year,
        children.sex,
        children.birth_date,
        villages.region_name as hukou_village,
        starters.basis,
        starters.current_school_code,
        current_schools.school_name as current_school_name,
        catchments.school_code as catchment_school_code,
        catchments.school_name as catchment_school_name
    from starters
    inner join terms
        on starters.term_id = terms.term_id
    inner join children
        on starters.term_id = children.term_id
        and starters.child_key = children.child_key
    left join regions as townships
        on children.home_township_code = townships.region_code
    left join regions as villages
        on children.hukou_region_code = villages.region_code
    left join schools as current_schools
        on starters.term_id = current_schools.term_id
        and starters.current_school_code = current_schools.school_code
    left join catchments
        on starters.term_id = catchments.term_id
        and children.home_township_code = catchments.township_code
        and starters.entry_grade = catchments.entry_grade
)

select * from final
