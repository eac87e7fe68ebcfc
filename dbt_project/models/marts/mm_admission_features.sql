-- The multimorbidity feature mart: one row per usable hospital admission. Generators learn
-- from it. The `meta` of each column in mm_admission_features.yml gives its role.
with

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

demographics as (

    select * from {{ ref('int_admission_demographics') }}

),

icu_summary as (

    select * from {{ ref('int_admission_icu_summary') }}

),

readmissions as (

    select * from {{ ref('int_admission_readmissions') }}

),

comorbidities as (

    select * from {{ ref('int_admission_comorbidities') }}

),

chapter_counts as (

    select * from {{ ref('int_admission_chapter_counts') }}

),

stays as (

    select
        hadm_id,
        admission_type,
        admission_location,
        {{ days_between('admittime', 'dischtime') }} as los_hospital_days,
        hospital_expire_flag

    from admissions

    where exclusion_reason is null

),

joined as (

    select
        -- ids
        demographics.subject_id,
        demographics.hadm_id,

        -- demographics
        demographics.age,
        demographics.age_top_coded,
        demographics.age_band,
        demographics.gender,
        demographics.ethnicity_group,
        demographics.insurance,
        demographics.language,
        demographics.marital_status,

        -- stay
        stays.admission_type,
        stays.admission_location,
        stays.los_hospital_days,
        icu_summary.icu_stays,
        icu_summary.icu_days,
        stays.hospital_expire_flag,
        readmissions.readmit_30d,

        -- comorbidity flags
        {%- for flag in elixhauser_flags() + charlson_flags() %}
        comorbidities.{{ flag }},
        {%- endfor %}

        -- diagnoses per ICD-9-CM chapter
        {%- for chapter in icd9_chapters() %}
        chapter_counts.{{ chapter }},
        {%- endfor %}

        -- derived multimorbidity measures
        chapter_counts.n_diagnoses,
        comorbidities.elixhauser_count,
        case when comorbidities.elixhauser_count >= 2 then 1 else 0 end as multimorbid,
        case
            when comorbidities.elixhauser_count >= 3 and comorbidities.body_system_count >= 3 then 1
            else 0
        end as complex_multimorbid,
        comorbidities.body_system_count,
        comorbidities.charlson_index,
        comorbidities.vanwalraven_score

    from demographics

    inner join stays
        on demographics.hadm_id = stays.hadm_id

    inner join icu_summary
        on demographics.hadm_id = icu_summary.hadm_id

    inner join readmissions
        on demographics.hadm_id = readmissions.hadm_id

    inner join comorbidities
        on demographics.hadm_id = comorbidities.hadm_id

    inner join chapter_counts
        on demographics.hadm_id = chapter_counts.hadm_id

)

select * from joined
