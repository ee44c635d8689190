-- 回执·乡村振兴（贫困学生台账）: every child of the compulsory cohort on the term's 防返贫监测
-- list, one row per child and term, with school, 学段, 学籍状态, 就学状况, findings and case
-- (receipt_child_status). The list names household members of every age: only the cohort
-- is the bureau's to answer for (控辍保学 is compulsory education). The writer adds the
-- name and identity number from pii by child_key.
with monitored as (
    select * from {{ ref('stg_xiangcun__monitored_people') }}
),

status as (
    select * from {{ ref('receipt_child_status') }}
),

listed as (
    select term_id, child_key, min(monitoring_type) as monitoring_type
    from monitored
    group by term_id, child_key
),

final as (
    {{ department_receipt(['monitoring_type'], cohort_only=true) }}
)

select * from final
