-- One row per patient: the features of their first usable admission and how many they had.
with

features as (

    select * from {{ ref('mm_admission_features') }}

),

demographics as (

    select * from {{ ref('int_admission_demographics') }}

),

ordered as (

    select
        features.*,
        row_number() over (
            partition by features.subject_id
            order by demographics.admittime, features.hadm_id
        ) as admission_number,
        count(*) over (partition by features.subject_id) as admission_count

    from features

    inner join demographics
        on features.hadm_id = demographics.hadm_id

),

first_admissions as (

    select * exclude (admission_number)

    from ordered

    where admission_number = 1

)

select * from first_admissions
