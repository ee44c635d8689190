-- Children on a department's list (防返贫监测, 残联, 民政, 司法), one row per term and
-- child: which lists name the child, the birth date its identity number carries, and the
-- township of its 防返贫监测 区划代码 when there is one.
with monitored as (
    select term_id, child_key, birth_date, region_code, '乡村振兴' as department
    from {{ ref('stg_xiangcun__monitored_people') }}
),

disabled as (
    select term_id, child_key, birth_date, null::text as region_code, '残联' as department
    from {{ ref('stg_canlian__disabled_children') }}
),

protected as (
    select term_id, child_key, birth_date, null::text as region_code, '民政' as department
    from {{ ref('stg_minzheng__protected_children') }}
),

prisoners_children as (
    select term_id, child_key, birth_date, null::text as region_code, '司法' as department
    from {{ ref('stg_sifa__prisoners_children') }}
),

listed as (
    select * from monitored
    union all select * from disabled
    union all select * from protected
    union all select * from prisoners_children
),

final as (
    select
        term_id,
        child_key,
        min(birth_date) as birth_date,
        string_agg(distinct department, '、' order by department) as departments,
        min(left(region_code, 9) || '000') as township_code
    from listed
    group by term_id, child_key
)

select * from final
