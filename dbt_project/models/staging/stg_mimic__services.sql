{{ config(enabled=not is_generation_build()) }}

with

source as (

    select * from {{ source('mimic', 'services') }}

),

renamed as (

    select
        row_id::integer as row_id,
        subject_id::integer as subject_id,
        hadm_id::integer as hadm_id,
        transfertime::timestamp as transfertime,
        {{ clean_text('prev_service') }} as prev_service,
        {{ clean_text('curr_service') }} as curr_service

    from source

)

select * from renamed
