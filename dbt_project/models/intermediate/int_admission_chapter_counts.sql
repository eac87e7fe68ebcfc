-- One row per usable admission: the number of usable diagnoses in each ICD-9-CM chapter
-- (every position counts, the first included) and their total.
with

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

diagnoses as (

    select * from {{ ref('int_diagnoses__checked') }}

),

usable_admissions as (

    select hadm_id

    from admissions

    where exclusion_reason is null

),

usable_diagnoses as (

    select *

    from diagnoses

    where exclusion_reason is null

),

per_admission as (

    select
        hadm_id,
        {{ pivot_counts('chapter', icd9_chapters()) }},
        count(*)::integer as n_diagnoses

    from usable_diagnoses

    group by hadm_id

),

all_admissions as (

    select
        usable_admissions.hadm_id,
        {%- for chapter in icd9_chapters() %}
        coalesce(per_admission.{{ chapter }}, 0) as {{ chapter }},
        {%- endfor %}
        coalesce(per_admission.n_diagnoses, 0) as n_diagnoses

    from usable_admissions

    left join per_admission
        on usable_admissions.hadm_id = per_admission.hadm_id

)

select * from all_admissions
