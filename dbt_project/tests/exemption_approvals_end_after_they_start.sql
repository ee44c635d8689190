-- Checks that every 缓免学审批 in a current delivery ends (有效期至, or the 31 August ending
-- the school year of 审批日期 when empty) on or after its 审批日期.
-- Why it matters: an approval that ends before it starts covers no census date, so its
-- child is reported 缓免学未审批 and a case opens although the bureau approved something -
-- most likely the two dates were swapped or mistyped.
-- How to fix: correct 审批日期 / 有效期至 in the bureau's register and deliver the huanmian
-- list again (the term and child key are listed; the name stays in raw).
{{ config(severity='warn', store_failures=true) }}

with approvals as (
    select * from {{ ref('stg_huanmian__exemption_approvals') }}
),

final as (
    select term_id, child_key, approval_type, approved_on, effective_until
    from approvals
    where effective_until < approved_on
)

select * from final
