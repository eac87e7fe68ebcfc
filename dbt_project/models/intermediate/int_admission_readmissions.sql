-- One row per usable admission: whether the same patient was admitted again within
-- `readmission_window_days` (default 30) after this discharge.
with

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

usable_admissions as (

    select
        subject_id,
        hadm_id,
        admittime,
        dischtime

    from admissions

    where exclusion_reason is null

),

followed_by_admission as (

    select distinct earlier.hadm_id

    from usable_admissions as earlier

    inner join usable_admissions as later
        on later.subject_id = earlier.subject_id
        and later.hadm_id <> earlier.hadm_id
        and later.admittime >= earlier.dischtime
        and later.admittime <= earlier.dischtime + to_days({{ var('readmission_window_days', 30) }})

),

flagged as (

    select
        usable_admissions.hadm_id,
        case when followed_by_admission.hadm_id is not null then 1 else 0 end as readmit_30d

    from usable_admissions

    left join followed_by_admission
        on usable_admissions.hadm_id = followed_by_admission.hadm_id

)

select * from flagged
