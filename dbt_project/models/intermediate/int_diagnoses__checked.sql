-- Every staged diagnosis with its ICD-9-CM chapter, whether D_ICD_DIAGNOSES lists its code, and
-- the reason it cannot be used (null when it can).
with

diagnoses as (

    select * from {{ ref('stg_mimic__diagnoses_icd') }}

),

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

dictionary as (

    select * from {{ ref('stg_mimic__d_icd_diagnoses') }}

),

chapters as (

    select * from {{ ref('seed_icd9_chapters') }}

),

usable_admissions as (

    select distinct hadm_id

    from admissions

    where exclusion_reason is null

),

known_codes as (

    select distinct icd9_code

    from dictionary

    where icd9_code is not null

),

numbered as (

    select
        *,
        {{ exact_copy_number() }} as copy_number

    from diagnoses

),

with_chapter as (

    select
        numbered.*,
        chapters.chapter,
        known_codes.icd9_code is not null as in_dictionary

    from numbered

    left join chapters
        on {{ code_in_range('numbered.icd9_code', 'chapters.code_from', 'chapters.code_to') }}

    left join known_codes
        on numbered.icd9_code = known_codes.icd9_code

),

checked as (

    select
        with_chapter.* exclude (copy_number),
        case
            when with_chapter.copy_number > 1 then 'exact duplicate row'
            when with_chapter.icd9_code is null then 'missing ICD-9 code'
            when usable_admissions.hadm_id is null then 'admission excluded or not found'
            when with_chapter.chapter is null then 'code in no ICD-9-CM chapter'
        end as exclusion_reason

    from with_chapter

    left join usable_admissions
        on with_chapter.hadm_id = usable_admissions.hadm_id

)

select * from checked
