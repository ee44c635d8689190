-- 学籍异动: one row per registry change, keyed by child.
with changes as (
    select * from {{ ref('stg_jiaoyu__registry_changes') }}
),

students as (
    select * from {{ ref('int_student_children') }}
),

final as (
    select
        md5(concat_ws('|', changes.term_id, changes.student_key, changes.change_type, changes.changed_on))
            as registry_change_id,
        changes.term_id,
        coalesce(students.child_key, changes.student_key) as child_key,
        changes.student_key,
        changes.change_type,
        changes.changed_on,
        changes.from_school_code,
        changes.to_school_code,
        changes.reason
    from changes
    left join students
        on changes.term_id = students.term_id
        and changes.student_key = students.student_key
)

select * from final
