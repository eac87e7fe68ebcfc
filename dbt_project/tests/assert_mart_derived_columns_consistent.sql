-- Fails on mart rows whose derived columns disagree with the base columns they come from.
with

features as (

    select * from {{ ref('mm_admission_features') }}

),

recomputed as (

    select
        hadm_id,
        age_top_coded <> (case when age >= 90 then 1 else 0 end) as bad_age_top_coded,
        elixhauser_count <> ({% for flag in elixhauser_flags() %}{{ flag }}{{ " + " if not loop.last }}{% endfor %}) as bad_elixhauser_count,
        n_diagnoses <> ({% for chapter in icd9_chapters() %}{{ chapter }}{{ " + " if not loop.last }}{% endfor %}) as bad_n_diagnoses,
        multimorbid <> (case when elixhauser_count >= 2 then 1 else 0 end) as bad_multimorbid,
        complex_multimorbid = 1 and body_system_count < 3 as bad_complex_multimorbid,
        body_system_count > elixhauser_count as bad_body_system_count

    from features

),

inconsistent as (

    select *

    from recomputed

    where bad_age_top_coded
       or bad_elixhauser_count
       or bad_n_diagnoses
       or bad_multimorbid
       or bad_complex_multimorbid
       or bad_body_system_count

)

select * from inconsistent
