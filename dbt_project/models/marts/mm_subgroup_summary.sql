-- Admissions, patients and multimorbidity prevalence per ethnicity group x insurance x gender x age band.
with

features as (

    select * from {{ ref('mm_admission_features') }}

),

summarised as (

    select
        ethnicity_group,
        insurance,
        gender,
        age_band,

        count(*) as admissions,
        count(distinct subject_id) as patients,
        sum(multimorbid) as multimorbid_admissions,
        avg(multimorbid) as multimorbid_prevalence,
        avg(complex_multimorbid) as complex_multimorbid_prevalence,
        avg(elixhauser_count) as mean_elixhauser_count

    from features

    group by ethnicity_group, insurance, gender, age_band

),

with_share as (

    select
        *,
        admissions / sum(admissions) over () as share_of_admissions

    from summarised

)

select * from with_share
