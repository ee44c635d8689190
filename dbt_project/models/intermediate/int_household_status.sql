-- A child's 户籍 per term. With several rows, the latest status change wins.
with household as (
    select * from {{ ref('stg_gongan__household_registrations') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by term_id, child_key
            order by status_changed_on desc nulls last, load_id desc, source_row desc
        ) as rank_in_term
    from household
),

final as (
    select
        term_id,
        child_key,
        birth_date,
        sex,
        hukou_region_code,
        hukou_township_code,
        person_status,
        person_status in ('死亡', '迁出', '注销') as is_deregistered,
        status_changed_on
    from ranked
    where rank_in_term = 1
)

select * from final
