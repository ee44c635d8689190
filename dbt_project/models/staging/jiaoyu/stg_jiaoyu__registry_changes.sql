with delivered as (
    {{ current_rows('jiaoyu', 'xueji_changes') }}
),

final as (
    select
        term_id,
        {{ student_key('student_no') }} as student_key,
        change_type,
        {{ code_of('change_type', 'change_type') }} as change_type_code,
        changed_on::date as changed_on,
        from_school_code,
        to_school_code,
        reason
    from delivered
)

select * from final
