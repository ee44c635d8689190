with delivered as (
    {{ current_rows('canlian', 'canlian') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        {{ birth_date_from_id('id_number') }} as birth_date,
        disability_category,
        {{ code_of('disability_category', 'disability_category') }} as disability_category_code,
        disability_grade::int as disability_grade,
        placement_advice,
        assessed_on::date as assessed_on
    from delivered
)

select * from final
