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

final as (
    select
        findings.term_id,
        findings.township_code,
        coalesce(townships.region_name, '未知乡镇') as sheet_name,
        findings.child_key,
        listed.birth_date,
        coalesce(findings.details ->> 'departments', listed.departments) as departments,
        listed.list_details,
        coalesce(villages.region_name, listed.listed_village_code) as listed_village,
        findings.details ->> 'summary' as summary,
        '去向核实' as action
    from findings
    left join listed
        on findings.term_id = listed.term_id
        and findings.child_key = listed.child_key
    left join regions as townships
        on findings.township_code = townships.region_code
    left join regions as villages
        on listed.listed_village_code = villages.region_code
)

select * from final
