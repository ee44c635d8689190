-- 重复学籍: one identity number on more than one 全国学籍号 (一人一籍 is violated), within
-- the county, or (SPEC §7) 在读 here and in another county of the region (the region's
-- match, re-identified by the county's own token): one finding per child either way.
with registrations as (
    select * from {{ ref('int_registrations') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

region_duplicates as (
    select
        term_id,
        child_key,
        string_agg(
            other_county_name || ' ' || concat_ws(' ', school_code, school_name), '、'
            order by other_county_code, school_code
        ) as elsewhere
    from {{ ref('stg_region__matches') }}
    where match_type = 'duplicate_registration'
    group by term_id, child_key
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

combined as (
    select
        coalesce(duplicated.term_id, region_duplicates.term_id) as term_id,
        coalesce(duplicated.child_key, region_duplicates.child_key) as child_key,
        duplicated.registrations,
        duplicated.registry,
        region_duplicates.elsewhere
    from duplicated
    full outer join region_duplicates
        on duplicated.term_id = region_duplicates.term_id
        and duplicated.child_key = region_duplicates.child_key
),

final as (
    select
        combined.term_id,
        'duplicate_registration' as finding_type,
        combined.child_key,
        null::text as school_code,
        children.home_township_code as township_code,
        jsonb_build_object(
            'summary', concat_ws(
                '；',
                '同一身份证号对应 ' || combined.registrations || ' 个学籍号：' || combined.registry,
                '区域学籍比对：同时在他县在读 ' || combined.elsewhere
            ),
            'feeds', case
                when combined.elsewhere is null then jsonb_build_array('学籍')
                else jsonb_build_array('学籍', '区域学籍比对')
            end,
            'registrations', combined.registrations,
            'registry', combined.registry,
            'elsewhere', combined.elsewhere
        ) as details
    from combined
    inner join children
        on combined.term_id = children.term_id
        and combined.child_key = children.child_key
)

select * from final
