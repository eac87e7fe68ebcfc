-- Fails on mart rows where a suppressed comorbidity flag is set together with its dominant flag.
with

long_flags as (

    select * from {{ ref('int_admission_comorbidities_long') }}

),

hierarchy as (

    select * from {{ ref('seed_comorbidity_hierarchy') }}

),

both_set as (

    select
        dominant.hadm_id,
        hierarchy.dominant_flag,
        hierarchy.suppressed_flag

    from hierarchy

    inner join long_flags as dominant
        on dominant.flag = hierarchy.dominant_flag

    inner join long_flags as suppressed
        on suppressed.flag = hierarchy.suppressed_flag
        and suppressed.hadm_id = dominant.hadm_id

)

select * from both_set
