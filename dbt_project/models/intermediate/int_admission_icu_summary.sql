-- One row per usable admission: number of usable ICU stays and their total length in days.
with

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

icustays as (

    select * from {{ ref('int_icustays__checked') }}

),

usable_admissions as (

    select hadm_id

    from admissions

    where exclusion_reason is null

),

per_admission as (

    select
        hadm_id,
        count(*)::integer as icu_stays,
        sum(icu_days) as icu_days

    from icustays

    where exclusion_reason is null

    group by hadm_id

),

all_admissions as (

    select
        usable_admissions.hadm_id,
        coalesce(per_admission.icu_stays, 0) as icu_stays,
        coalesce(per_admission.icu_days, 0.0) as icu_days

    from usable_admissions

    left join per_admission
        on usable_admissions.hadm_id = per_admission.hadm_id

)

select * from all_admissions
