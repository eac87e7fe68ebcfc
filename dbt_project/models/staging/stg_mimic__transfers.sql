{{ config(enabled=not is_generation_build()) }}

with

source as (

    select * from {{ source('mimic', 'transfers') }}

),

renamed as (

    select
        -- ids
        row_id::integer as row_id,
        subject_id::integer as subject_id,
        hadm_id::integer as hadm_id,
        icustay_id::integer as icustay_id,

        -- event and units
        {{ clean_text('dbsource') }} as dbsource,
        {{ clean_text('eventtype') }} as eventtype,
        {{ clean_text('prev_careunit') }} as prev_careunit,
        {{ clean_text('curr_careunit') }} as curr_careunit,
        prev_wardid::integer as prev_wardid,
        curr_wardid::integer as curr_wardid,

        -- timestamps and length of stay in hours
        intime::timestamp as intime,
        outtime::timestamp as outtime,
        los::double as los

    from source

)

select * from renamed
