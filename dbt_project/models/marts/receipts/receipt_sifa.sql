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
    {{ department_receipt(['relationships']) }}
)

select * from final
