-- 部门名单儿童无户籍学籍台账: every listed_child_unknown finding (a compulsory-cohort child
-- on a department's list whom neither 户籍 nor 学籍 knows and no 去向核实 of the school
-- year confirms), one row per child and term, for the township to find out where the
-- child is (去向核实) and report it back through the quxiang feed. Which lists name the
-- child and what they say, its birth date (from the identity number) and the village its
-- 防返贫监测 row gives; the writer adds the name and masked number from pii by child_key.
-- A child with no 防返贫监测 区划代码 has no township: sheet 未知乡镇, for the bureau.
with findings as (
    select * from {{ ref('fct_findings') }}
    where finding_type = 'listed_child_unknown'
),

listed as (
    select * from {{ ref('int_listed_children') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

-- what each department's list says about the child, in the order the departments are named
list_entries as (
    select term_id, child_key, 1 as list_order, '防返贫监测：' || monitoring_type as entry
    from {{ ref('stg_xiangcun__monitored_people') }}
    union
    select term_id, child_key, 2, '残疾：' || disability_category
    from {{ ref('stg_canlian__disabled_children') }}
    union
    select term_id, child_key, 3, '民政：' || protection_category
    from {{ ref('stg_minzheng__protected_children') }}
    union
    select term_id, child_key, 4, '司法：服刑人员子女'
    from {{ ref('stg_sifa__prisoners_children') }}
),

list_details as (
    select term_id, child_key, string_agg(entry, '；' order by list_order, entry) as list_details
    from list_entries
    group by term_id, child_key
),

-- the village of the child's 防返贫监测 row (the one list that gives a place)
listed_villages as (
    select term_id, child_key, min(region_code) as region_code
    from {{ ref('stg_xiangcun__monitored_people') }}
    group by term_id, child_key
),

final as (
    select
        findings.term_id,
        findings.township_code,
        coalesce(townships.region_name, '未知乡镇') as sheet_name,
        findings.child_key,
        listed.birth_date,
        coalesce(findings.details ->> 'departments', listed.departments) as departments,
        list_details.list_details,
        coalesce(villages.region_name, listed_villages.region_code) as listed_village,
        findings.details ->> 'summary' as summary,
        '去向核实' as action
    from findings
    left join listed
        on findings.term_id = listed.term_id
        and findings.child_key = listed.child_key
    left join list_details
        on findings.term_id = list_details.term_id
        and findings.child_key = list_details.child_key
    left join listed_villages
        on findings.term_id = listed_villages.term_id
        and findings.child_key = listed_villages.child_key
    left join regions as townships
        on findings.township_code = townships.region_code
    left join regions as villages
        on listed_villages.region_code = villages.region_code
)

select * from final
