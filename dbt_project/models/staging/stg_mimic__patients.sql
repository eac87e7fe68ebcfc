with

source as (

    select * from {{ source('mimic', 'patients') }}

),

renamed as (

    select
        -- ids
        row_id::integer as row_id,
        subject_id::integer as subject_id,

        -- demographics
        upper({{ clean_text('gender') }}) as gender,

        -- timestamps (shifted per patient; ages over 89 have dob 300 years before admission)
        dob::timestamp as dob,
        dod::timestamp as dod,
        dod_hosp::timestamp as dod_hosp,
        dod_ssn::timestamp as dod_ssn,

        -- flags
        expire_flag::integer as expire_flag

    from source

)

select * from renamed
