with delivered as (
    {{ current_rows('jiaoyu', 'schools') }}
),

final as (
    select
        term_id,
        school_code,
        school_name,
        school_type,
        {{ code_of('school_type', 'school_type') }} as school_type_code,
        township_code,
        operator
    from delivered
)

select * from final
