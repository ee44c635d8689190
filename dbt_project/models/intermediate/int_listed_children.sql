-- Children on a department's list (防返贫监测, 残联, 民政, 司法), one row per term and
-- child: which lists name the child and what each says, the birth date its identity
-- number carries, and the village and township of its 防返贫监测 区划代码 when there is one.
with monitored as (
    select
        term_id, child_key, birth_date, region_code, '乡村振兴' as department,
        1 as list_order, '防返贫监测：' || monitoring_type as entry
    from {{ ref('stg_xiangcun__monitored_people') }}
),

disabled as (
    select
        term_id, child_key, birth_date, null::text as region_code, '残联' as department,
        2 as list_order, '残疾：' || disability_category as entry
    from {{ ref('stg_canlian__disabled_children') }}
),

protected as (
    select
        term_id, child_key, birth_date, null::text as region_code, '民政' as department,
        3 as list_order, '民政：' || protection_category as entry
    from {{ ref('stg_minzheng__protected_children') }}
),

prisoners_children as (
    select
        term_id, child_key, birth_date, null::text as region_code, '司法' as department,
        4 as list_order, '司法：服刑人员子女' as entry
    from {{ ref('stg_sifa__prisoners_children') }}
),

listed as (
    select * from monitored
    union all select * from disabled
    union all select * from protected
    union all select * from prisoners_children
),

-- what the lists say of the child, each entry once, in the order the departments are named
list_details as (
    select term_id, child_key, string_agg(entry, '；' order by list_order, entry) as list_details
    from (select distinct term_id, child_key, list_order, entry from listed) as entries
    group by term_id, child_key
),

children as (
    select
        term_id,
        child_key,
        min(birth_date) as birth_date,
        string_agg(distinct department, '、' order by department) as departments,
        min(region_code) as listed_village_code,
        min(left(region_code, 9) || '000') as township_code
    from listed
    group by term_id, child_key
),

final as (
    select children.*, list_details.list_details
    from children
    inner join list_details
        on children.term_id = list_details.term_id
        and children.child_key = list_details.child_key
)

select * from final
