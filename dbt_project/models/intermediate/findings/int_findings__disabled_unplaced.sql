-- 残疾儿童未安置: a child in the 残联 list who is out of school.
with children as (
    select * from {{ ref('int_child_terms') }}
),

out_of_school as (
    select * from {{ ref('int_findings__out_of_school') }}
),

final as (
    select
        children.term_id,
        'disabled_unplaced' as finding_type,
        children.child_key,
        null::text as school_code,
        children.home_township_code as township_code,
        jsonb_build_object(
            'summary', '残疾儿童（' || children.disability_category || '残疾' || children.disability_grade
                || '级，安置建议：' || coalesce(children.placement_advice, '无') || '）未入学',
            'feeds', jsonb_build_array('残疾儿童', '户籍', '学籍'),
            'disability_category', children.disability_category,
            'disability_grade', children.disability_grade,
            'placement_advice', children.placement_advice
        ) as details
    from children
    inner join out_of_school
        on children.term_id = out_of_school.term_id
        and children.child_key = out_of_school.child_key
    where children.disability_category is not null
)

select * from final
