-- 区域比对结果 (SPEC §7): the hub's matches for this county, by token; the county turns
-- them back into its own children with its own tokens. A token the county did not make
-- (a stale hand-out after the region's key was rotated) matches no child and is dropped.
with matches as (
    select * from {{ source('region', 'region_matches') }}
),

tokens as (
    select * from {{ source('pii', 'region_tokens') }}
),

final as (
    select
        matches.term_id,
        tokens.child_key,
        matches.match_type,
        matches.other_county_code,
        matches.other_county_name,
        matches.school_code,
        matches.school_name,
        matches.grade,
        matches.handed_at
    from matches
    inner join tokens
        on matches.token = tokens.token
)

select * from final
