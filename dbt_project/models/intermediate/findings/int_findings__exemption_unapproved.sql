-- 缓免学未审批: an exempt child of the compulsory cohort (学籍 延缓入学/免于入学) whom no
-- approval of that status covers this term's census date. The child stays exempt (not
-- out_of_school); without the bureau's approval the exemption has no lawful basis.
with exemptions as (
    select * from {{ ref('int_exemptions') }}
),

final as (
    select
        term_id,
        'exemption_unapproved' as finding_type,
        child_key,
        null::text as school_code,
        township_code,
        jsonb_build_object(
            'summary', '学籍状态为' || exemption_status || '，但缓免学审批中无覆盖本学期统计时点的' || exemption_status || '审批',
            'feeds', jsonb_build_array('学籍', '缓免学审批'),
            'exemption_status', exemption_status
        ) as details
    from exemptions
    where not is_approved
)

select * from final
