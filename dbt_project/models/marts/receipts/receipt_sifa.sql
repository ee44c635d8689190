-- 回执·司法: every child on the term's 服刑人员子女 list, one row per child and term, with
-- school, 学段, 学籍状态, 就学状况, findings and case (receipt_child_status). The prisoner's
-- name stays in raw: the 司法局 has it.
with prisoners_children as (
    select * from {{ ref('stg_sifa__prisoners_children') }}
),

status as (
    select * from {{ ref('receipt_child_status') }}
),

listed as (
    select
        term_id,
        child_key,
        string_agg(distinct relationship, '、' order by relationship) as relationships
    from prisoners_children
    group by term_id, child_key
),

final as (
    select
        status.term_id,
        status.township_code,
        status.sheet_name,
        status.child_key,
        listed.relationships,
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
