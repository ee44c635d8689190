with delivered as (
    {{ current_rows('quxiang', 'quxiang') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        whereabouts_type,
        school_elsewhere,
        place_elsewhere,
        student_no_elsewhere is not null as has_student_no_elsewhere,
        confirmed_on::date as confirmed_on,
        confirmation_method
    from delivered
)

select * from final
