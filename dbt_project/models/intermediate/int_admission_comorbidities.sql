-- One row per usable admission: the 31 Elixhauser and 17 Charlson flags, the Elixhauser count,
-- body systems affected, the Charlson index (1987 weights) and the van Walraven score.
with

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

flags as (

    select * from {{ ref('int_admission_comorbidities_long') }}

),

vanwalraven_weights as (

    select * from {{ ref('seed_vanwalraven_weights') }}

),

charlson_weights as (

    select * from {{ ref('seed_charlson_weights') }}

),

body_systems as (

    select * from {{ ref('seed_condition_body_systems') }}

),

usable_admissions as (

    select hadm_id

    from admissions

    where exclusion_reason is null

),

weighted_flags as (

    select
        flags.hadm_id,
        flags.code_list,
        flags.flag,
        coalesce(vanwalraven_weights.weight, charlson_weights.weight) as weight,
        body_systems.body_system

    from flags

    left join vanwalraven_weights
        on flags.flag = vanwalraven_weights.flag

    left join charlson_weights
        on flags.flag = charlson_weights.flag

    left join body_systems
        on flags.flag = body_systems.flag

),

per_admission as (

    select
        hadm_id,
        {{ pivot_flags('flag', elixhauser_flags() + charlson_flags()) }},
        count(*) filter (where code_list = 'elixhauser')::integer as elixhauser_count,
        count(distinct body_system) filter (where code_list = 'elixhauser')::integer as body_system_count,
        coalesce(sum(weight) filter (where code_list = 'charlson'), 0)::integer as charlson_index,
        coalesce(sum(weight) filter (where code_list = 'elixhauser'), 0)::integer as vanwalraven_score

    from weighted_flags

    group by hadm_id

),

all_admissions as (

    select
        usable_admissions.hadm_id,
        {%- for flag in elixhauser_flags() + charlson_flags() %}
        coalesce(per_admission.{{ flag }}, 0) as {{ flag }},
        {%- endfor %}
        coalesce(per_admission.elixhauser_count, 0) as elixhauser_count,
        coalesce(per_admission.body_system_count, 0) as body_system_count,
        coalesce(per_admission.charlson_index, 0) as charlson_index,
        coalesce(per_admission.vanwalraven_score, 0) as vanwalraven_score

    from usable_admissions

    left join per_admission
        on usable_admissions.hadm_id = per_admission.hadm_id

)

select * from all_admissions
