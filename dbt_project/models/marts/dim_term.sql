{{ config(grants={'+select': ['kcbx_township']}) }}
with terms as (
    select * from {{ ref('int_terms') }}
),

final as (
    select
        term_id,
        school_year,
        term_number,
        case term_number when 1 then '秋季学期' else '春季学期' end as term_label,
        census_date,
        first_day,
        last_day,
        school_days,
        cohort_first_birth,
        cohort_last_birth
    from terms
)

select * from final
