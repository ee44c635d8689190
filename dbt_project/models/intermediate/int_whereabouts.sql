-- 去向核实 confirmations with their effect on the term (SPEC §3): one row per
-- confirmation in the term's delivery. A 县外就读/出国出境 confirmed in the term's school
-- year (Y-09-01 to (Y+1)-08-31) and on or before its last day means the child is schooled
-- elsewhere; 死亡/迁出 in that window ends the county's responsibility; 其他 has no effect.
with confirmations as (
    select * from {{ ref('stg_quxiang__whereabouts_confirmations') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),

windowed as (
    select
        confirmations.*,
        confirmations.confirmed_on between make_date(terms.school_year, 9, 1)
        and least(make_date(terms.school_year + 1, 8, 31), terms.last_day) as is_in_window
    from confirmations
    inner join terms
        on confirmations.term_id = terms.term_id
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
    from windowed
)

select * from final
