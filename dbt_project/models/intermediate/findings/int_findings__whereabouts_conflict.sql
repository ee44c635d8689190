-- 去向与学籍矛盾: the township confirmed the child elsewhere (县外就读/出国出境) or gone
-- (死亡/迁出) this school year, yet its current 学籍 is 在读 at a county school: one of
-- the two records is wrong, and the child may be a phantom enrolment.
with whereabouts as (
    select * from {{ ref('int_whereabouts') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

confirmed as (
    select
        term_id,
        child_key,
        string_agg(distinct whereabouts_type, '、') as whereabouts_types,
        max(confirmed_on) as confirmed_on
    from whereabouts
    where is_in_window
        and whereabouts_type in ('县外就读', '出国出境', '死亡', '迁出')
        -- a township's confirmation; the region's matches are of children not 在读 here
        -- (duplicate registrations are their own finding)
        and source = 'quxiang'
    group by term_id, child_key
),

final as (
    select
        registrations.term_id,
        'whereabouts_conflict' as finding_type,
        registrations.child_key,
        registrations.school_code,
        registrations.school_township_code as township_code,
        jsonb_build_object(
            'summary', confirmed.confirmed_on || ' 去向核实为' || confirmed.whereabouts_types || '，但学籍仍为本县在读',
            'feeds', jsonb_build_array('去向核实', '学籍'),
            'whereabouts_types', confirmed.whereabouts_types,
            'confirmed_on', confirmed.confirmed_on
        ) as details
    from registrations
    inner join confirmed
        on registrations.term_id = confirmed.term_id
        and registrations.child_key = confirmed.child_key
    where registrations.registry_status_code = 'enrolled'
        and registrations.is_county_school
)

select * from final
