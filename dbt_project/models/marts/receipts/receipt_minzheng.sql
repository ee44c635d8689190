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
    {{ department_receipt(['protection_categories']) }}
)

select * from final
