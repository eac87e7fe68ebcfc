-- Every staged ICU stay with its length in days and the reason it cannot be used (null when it can).
with

icustays as (

    select * from {{ ref('stg_mimic__icustays') }}

),

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

usable_admissions as (

    select distinct hadm_id

    from admissions

    where exclusion_reason is null

),

numbered as (

    select
        *,
        {{ exact_copy_number() }} as copy_number

    from icustays

),

with_days as (

    select
        *,
        -- ICUSTAYS.LOS is in fractional days. Where it is missing, it is recomputed from the times.
        coalesce(los, {{ days_between('intime', 'outtime') }}) as icu_days

    from numbered

),

checked as (

    select
        with_days.* exclude (copy_number),
        case
            when with_days.copy_number > 1 then 'exact duplicate row'
            when usable_admissions.hadm_id is null then 'admission excluded or not found'
            when with_days.icu_days is null then 'missing ICU length of stay'
            when with_days.icu_days < 0 then 'ICU discharge before ICU admission'
        end as exclusion_reason

    from with_days

    left join usable_admissions
        on with_days.hadm_id = usable_admissions.hadm_id

)

select * from checked
