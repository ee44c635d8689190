-- Child x term: the registration a child's figures show when it has several 学籍 rows -
-- the most active (registry_rank from seeds/code_values.csv: 在读 over 休学 over the
-- rest), a county school's first, then the lowest school code.
with registrations as (
    select * from {{ ref('int_registrations') }}
),

final as (
    select distinct on (term_id, child_key)
        term_id,
        child_key,
        school_code,
        is_county_school,
        grade,
        registry_status,
        registry_status_code,
        is_on_roll,
        study_mode
    from registrations
    order by
        term_id,
        child_key,
        registry_rank,
        is_county_school desc,
        school_code
)

select * from final
