-- 脱贫户辍学: a child in the poverty-monitoring list who is out of school, phantom
-- enrolled or a suspected dropout. One finding per child and term.
with children as (
    select * from {{ ref('int_child_terms') }}
),

school_problems as (
    select term_id, child_key, finding_type from {{ ref('int_findings__out_of_school') }}
    union all
    select term_id, child_key, finding_type from {{ ref('int_findings__phantom_enrolment') }}
    union all
    select term_id, child_key, finding_type from {{ ref('int_findings__suspected_dropout') }}
),

per_child as (
    select term_id, child_key, string_agg(distinct finding_type, ',') as underlying
    from school_problems
    group by term_id, child_key
),

final as (
    select
        children.term_id,
        'poverty_dropout' as finding_type,
        children.child_key,
        null::text as school_code,
        children.home_township_code as township_code,
        jsonb_build_object(
            'summary', '防返贫监测对象（' || children.monitoring_type || '）存在失学/辍学风险',
            'feeds', jsonb_build_array('防返贫监测', '户籍', '学籍', '考勤'),
            'monitoring_type', children.monitoring_type,
            'underlying_findings', per_child.underlying
        ) as details
    from children
    inner join per_child
        on children.term_id = per_child.term_id
        and children.child_key = per_child.child_key
    where children.monitoring_type is not null
)

select * from final
