-- 缓免学审批: the bureau's approvals of 延缓入学 / 免于入学, one row per approval and term.
-- An approval with no 有效期至 runs to the 31 August that ends the school year of its
-- 审批日期 (SPEC §2).
with delivered as (
    {{ current_rows('huanmian', 'huanmian') }}
),

typed as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        approval_type,
        approved_on::date as approved_on,
        valid_until::date as valid_until,
        approval_basis,
        approving_body
    from delivered
),

final as (
    select
        term_id,
        child_key,
        approval_type,
        approved_on,
        valid_until,
        coalesce(
            valid_until,
            make_date(extract(year from approved_on)::int + (extract(month from approved_on) >= 9)::int, 8, 31)
        ) as effective_until,
        approval_basis,
        approving_body
    from typed
)

select * from final
