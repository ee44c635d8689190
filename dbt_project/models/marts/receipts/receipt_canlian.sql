-- 回执·残联: every child on the term's 残疾儿童 list, one row per child and term, with the
-- 安置建议 against the actual placement (随班就读 / 特殊教育学校 / 送教上门 / 缓免学 / 未安置,
-- rules in receipt_child_status) from the child's current 学籍, and whether they agree.
-- Children outside the compulsory cohort are listed too (义务教育适龄 否); the 三类安置
-- counts (receipt_canlian_placements) count the cohort only.
with disabled as (
    select * from {{ ref('stg_canlian__disabled_children') }}
),

status as (
    select * from {{ ref('receipt_child_status') }}
),

-- several rows for one child: the first category, the gravest grade, the first advice
listed as (
    select
        term_id,
        child_key,
        min(disability_category) as disability_category,
        min(disability_grade) as disability_grade,
        min(placement_advice) as placement_advice
    from disabled
    group by term_id, child_key
),

final as (
    select
        status.term_id,
        status.township_code,
        status.sheet_name,
        status.child_key,
        listed.disability_category,
        (array['一级', '二级', '三级', '四级'])[listed.disability_grade] as disability_grade,
        coalesce(listed.placement_advice, '无') as placement_advice,
        status.in_cohort,
        status.in_cohort_label,
        status.school_name,
        status.stage,
        status.registry_status,
        status.study_mode,
        status.actual_placement,
        case
            when not status.in_cohort then '不适用'
            when listed.placement_advice is null then '无建议'
            when listed.placement_advice = status.actual_placement
                or (listed.placement_advice = '暂缓入学' and status.actual_placement = '缓免学') then '是'
            else '否'
        end as is_as_advised,
        status.schooling_status,
        status.findings
    from listed
    inner join status
        on listed.term_id = status.term_id
        and listed.child_key = status.child_key
)

select * from final
