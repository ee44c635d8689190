-- 去向核实 confirmations with their effect on the term (SPEC §3): one row per
-- confirmation in the term's delivery. A 县外就读/出国出境 confirmed in the term's school
-- year (Y-09-01 to (Y+1)-08-31) and on or before its last day means the child is schooled
-- elsewhere; 死亡/迁出 in that window ends the county's responsibility; 其他 has no effect.
-- SPEC §7: the region's matches confirm as a 县外就读 would (核实方式 区域学籍比对, the
-- other county's school as evidence): the child is enrolled there on the term's census
-- date, so the confirmation is the term's whatever day the region handed it.
with confirmations as (
    select * from {{ ref('stg_quxiang__whereabouts_confirmations') }}
),

region_matches as (
    select * from {{ ref('stg_region__matches') }}
    where match_type = 'confirmed_elsewhere'
),

terms as (
    select * from {{ ref('int_terms') }}
),

-- a match handed before the child came back: on a county school's roll now, it is not
-- elsewhere (the next hand-over drops it)
on_roll_here as (
    select distinct term_id, child_key
    from {{ ref('int_registrations') }}
    where is_county_school and is_on_roll
),

windowed as (
    select
        confirmations.*,
        'quxiang' as source,
        confirmations.confirmed_on between make_date(terms.school_year, 9, 1)
        and least(make_date(terms.school_year + 1, 8, 31), terms.last_day) as is_in_window
    from confirmations
    inner join terms
        on confirmations.term_id = terms.term_id
),

by_region as (
    select
        region_matches.term_id,
        region_matches.child_key,
        '县外就读' as whereabouts_type,
        concat_ws(' ', region_matches.school_code, region_matches.school_name) as school_elsewhere,
        region_matches.other_county_name as place_elsewhere,
        true as has_student_no_elsewhere,
        least(region_matches.handed_at::date, terms.last_day) as confirmed_on,
        '区域学籍比对' as confirmation_method,
        'region' as source,
        true as is_in_window
    from region_matches
    inner join terms
        on region_matches.term_id = terms.term_id
    left join on_roll_here
        on region_matches.term_id = on_roll_here.term_id
        and region_matches.child_key = on_roll_here.child_key
    where on_roll_here.child_key is null
),

unioned as (
    select
        term_id, child_key, whereabouts_type, school_elsewhere, place_elsewhere, has_student_no_elsewhere,
        confirmed_on, confirmation_method, source, is_in_window
    from windowed
    union all
    select
        term_id, child_key, whereabouts_type, school_elsewhere, place_elsewhere, has_student_no_elsewhere,
        confirmed_on, confirmation_method, source, is_in_window
    from by_region
),

final as (
    select
        *,
        case
            when not is_in_window then 'none'
            when whereabouts_type in ('县外就读', '出国出境') then 'schooled_elsewhere'
            when whereabouts_type in ('死亡', '迁出') then 'responsibility_ended'
            else 'none'
        end as effect
    from unioned
)

select * from final
