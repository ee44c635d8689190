-- 回执·民政: every child on the term's 困境儿童 list, one row per child and term (its 保障类别
-- together), with school, 学段, 学籍状态, 就学状况, findings and case (receipt_child_status).
with protected as (
    select * from {{ ref('stg_minzheng__protected_children') }}
),

status as (
    select * from {{ ref('receipt_child_status') }}
),

listed as (
    select
        term_id,
        child_key,
        string_agg(distinct protection_category, '、' order by protection_category) as protection_categories
    from protected
    group by term_id, child_key
),

final as (
    select
        status.term_id,
        status.township_code,
        status.sheet_name,
        status.child_key,
        listed.protection_categories,
        status.in_cohort_label,
        status.school_name,
        status.grade,
        status.stage,
        status.registry_status,
        status.schooling_status,
        status.findings,
        status.case_status
    from listed
    inner join status
        on listed.term_id = status.term_id
        and listed.child_key = status.child_key
)

select * from final
