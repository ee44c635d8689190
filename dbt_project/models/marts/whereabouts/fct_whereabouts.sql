{{ config(post_hook="{{ township_row_security('home_township_code') }}", grants={'+select': ['kcbx_township']}) }}
-- 去向核实 — one row per confirmed whereabouts of a child and term, with its effect on
-- the rules (int_whereabouts) and the evidence an official reads.
with whereabouts as (
    select * from {{ ref('int_whereabouts') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

final as (
    select
        whereabouts.term_id,
        whereabouts.child_key,
        children.home_township_code,
        whereabouts.whereabouts_type,
        whereabouts.confirmed_on,
        whereabouts.confirmation_method,
        whereabouts.place_elsewhere,
        whereabouts.school_elsewhere,
        whereabouts.has_student_no_elsewhere,
        whereabouts.is_in_window,
        whereabouts.effect,
        case whereabouts.effect
            when 'schooled_elsewhere' then '在外就读（已核实）'
            when 'responsibility_ended' then '已' || whereabouts.whereabouts_type || '（已核实）'
            else '不影响认定'
        end as effect_label,
        concat_ws(
            '，',
            whereabouts.confirmed_on || ' ' || coalesce(whereabouts.confirmation_method, '核实'),
            whereabouts.place_elsewhere,
            whereabouts.school_elsewhere
        ) as evidence
    from whereabouts
    left join children
        on whereabouts.term_id = children.term_id
        and whereabouts.child_key = children.child_key
)

select * from final
