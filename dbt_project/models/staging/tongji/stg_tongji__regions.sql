with delivered as (
    {{ current_rows('tongji', 'regions') }}
),

final as (
    select
        term_id,
        region_code,
        region_name,
        region_level,
        parent_code
    from delivered
)

select * from final
