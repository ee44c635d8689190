-- 重复学籍: one identity number on more than one 全国学籍号 (一人一籍 is violated).
with registrations as (
    select * from {{ ref('int_registrations') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

duplicated as (
    select
        term_id,
        child_key,
        count(distinct student_key) as registrations,
        string_agg(school_code || ' ' || registry_status, '、' order by school_code) as registry
    from registrations
    where has_id_number
    group by term_id, child_key
    having count(distinct student_key) > 1
),

final as (
    select
        duplicated.term_id,
        'duplicate_registration' as finding_type,
        duplicated.child_key,
        null::text as school_code,
        children.home_township_code as township_code,
        jsonb_build_object(
            'summary', '同一身份证号对应 ' || duplicated.registrations || ' 个学籍号：' || duplicated.registry,
            'feeds', jsonb_build_array('学籍'),
            'registrations', duplicated.registrations,
            'registry', duplicated.registry
        ) as details
    from duplicated
    inner join children
        on duplicated.term_id = children.term_id
        and duplicated.child_key = children.child_key
)

select * from final
