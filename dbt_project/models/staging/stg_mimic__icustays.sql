with

source as (

    select * from {{ source('mimic', 'icustays') }}

),

renamed as (

    select
        -- ids
        row_id::integer as row_id,
        subject_id::integer as subject_id,
        hadm_id::integer as hadm_id,
        icustay_id::integer as icustay_id,

        -- units
        {{ clean_text('dbsource') }} as dbsource,
        {{ clean_text('first_careunit') }} as first_careunit,
        {{ clean_text('last_careunit') }} as last_careunit,
        first_wardid::integer as first_wardid,
        last_wardid::integer as last_wardid,

        -- timestamps and length of stay in days
        intime::timestamp as intime,
        outtime::timestamp as outtime,
        los::double as los

    from source

)

select * from renamed
