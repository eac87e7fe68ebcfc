-- One row per admission and comorbidity flag that is set after the hierarchy: a suppressed
-- flag (e.g. uncomplicated diabetes) is dropped when its dominant flag is set.
with

matches as (

    select * from {{ ref('int_diagnoses__comorbidity_matches') }}

),

hierarchy as (

    select * from {{ ref('seed_comorbidity_hierarchy') }}

),

matched_flags as (

    select distinct
        hadm_id,
        code_list,
        flag

    from matches

),

suppressed as (

    select
        matched_flags.hadm_id,
        matched_flags.flag

    from matched_flags

    inner join hierarchy
        on matched_flags.flag = hierarchy.suppressed_flag

    inner join matched_flags as dominant
        on dominant.hadm_id = matched_flags.hadm_id
        and dominant.flag = hierarchy.dominant_flag

),

after_hierarchy as (

    select matched_flags.*

    from matched_flags

    anti join suppressed
        on matched_flags.hadm_id = suppressed.hadm_id
        and matched_flags.flag = suppressed.flag

)

select * from after_hierarchy
