with delivered as (
    {{ current_rows('jiaoyu', 'calendar') }}
),

final as (
    select
        term_id,
        day::date as day,
        is_school_day = '是' as is_school_day
    from delivered
)

select * from final
