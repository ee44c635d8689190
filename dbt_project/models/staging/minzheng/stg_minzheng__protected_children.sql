with delivered as (
    {{ current_rows('minzheng', 'minzheng') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        {{ birth_date_from_id('id_number') }} as birth_date,
        protection_category,
        {{ code_of('protection_category', 'protection_category') }} as protection_category_code,
        recognised_on::date as recognised_on
    from delivered
)

select * from final
