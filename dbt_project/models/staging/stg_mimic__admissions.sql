with

source as (

    select * from {{ source('mimic', 'admissions') }}

),

renamed as (

    select
        -- ids
        row_id::integer as row_id,
        subject_id::integer as subject_id,
        hadm_id::integer as hadm_id,

        -- timestamps
        admittime::timestamp as admittime,
        dischtime::timestamp as dischtime,
        deathtime::timestamp as deathtime,
        edregtime::timestamp as edregtime,
        edouttime::timestamp as edouttime,

        -- admission
        {{ clean_text('admission_type') }} as admission_type,
        {{ clean_text('admission_location') }} as admission_location,
        {{ clean_text('discharge_location') }} as discharge_location,
        {{ clean_text('diagnosis') }} as diagnosis,

        -- demographics
        {{ clean_text('insurance') }} as insurance,
        upper({{ clean_text('language') }}) as language,
        {{ clean_text('religion') }} as religion,
        {{ clean_text('marital_status') }} as marital_status,
        {{ clean_text('ethnicity') }} as ethnicity,

        -- flags
        hospital_expire_flag::integer as hospital_expire_flag,
        has_chartevents_data::integer as has_chartevents_data

    from source

)

select * from renamed
