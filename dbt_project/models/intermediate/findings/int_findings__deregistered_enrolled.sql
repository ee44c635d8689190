-- 户籍已死亡/迁出/注销 but 学籍 still 在读: the registry needs correcting, or the child
-- is attending under someone else's record.
with registrations as (
    select * from {{ ref('int_registrations') }}
),

household as (
    select * from {{ ref('int_household_status') }}
),

final as (
    select
        registrations.term_id,
        'deregistered_enrolled' as finding_type,
        registrations.child_key,
        registrations.school_code,
        registrations.school_township_code as township_code,
        jsonb_build_object(
            'summary', '户籍状态为' || household.person_status
                || coalesce('（' || household.status_changed_on || '）', '') || '，但学籍仍为在读',
            'feeds', jsonb_build_array('户籍', '学籍'),
            'hukou_status', household.person_status,
            'hukou_status_changed_on', household.status_changed_on
        ) as details
    from registrations
    inner join household
        on registrations.term_id = household.term_id
        and registrations.child_key = household.child_key
    where registrations.registry_status_code = 'enrolled'
        and household.is_deregistered
)

select * from final
