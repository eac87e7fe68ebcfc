{#
  The one matching rule shared by every code-list seed and by equisynth.codelists in Python:
  a row (code_from, code_to) matches a dot-less ICD-9 code when the code's first
  length(code_from) characters sort between code_from and code_to.
#}
{% macro code_in_range(code, code_from, code_to) -%}
  left({{ code }}, length({{ code_from }})) between {{ code_from }} and {{ code_to }}
{%- endmacro %}


{#
  Mart column names of the comorbidity flags and chapter counts, in mart order. The singular
  test assert_code_list_flags_match_columns fails when a seed and these lists disagree.
#}
{% macro elixhauser_flags() -%}
  {{ return([
    'elix_chf', 'elix_arrhythmia', 'elix_valvular', 'elix_pulm_circ', 'elix_pvd',
    'elix_htn_uncomplicated', 'elix_htn_complicated', 'elix_paralysis', 'elix_neuro_other',
    'elix_chronic_pulm', 'elix_diabetes_uncomplicated', 'elix_diabetes_complicated',
    'elix_hypothyroidism', 'elix_renal_failure', 'elix_liver_disease', 'elix_peptic_ulcer',
    'elix_aids_hiv', 'elix_lymphoma', 'elix_metastatic_cancer', 'elix_solid_tumor',
    'elix_rheumatoid_arthritis', 'elix_coagulopathy', 'elix_obesity', 'elix_weight_loss',
    'elix_fluid_electrolyte', 'elix_blood_loss_anemia', 'elix_deficiency_anemia',
    'elix_alcohol_abuse', 'elix_drug_abuse', 'elix_psychoses', 'elix_depression'
  ]) }}
{%- endmacro %}


{% macro charlson_flags() -%}
  {{ return([
    'cci_myocardial_infarction', 'cci_chf', 'cci_pvd', 'cci_cerebrovascular', 'cci_dementia',
    'cci_chronic_pulm', 'cci_rheumatic', 'cci_peptic_ulcer', 'cci_mild_liver',
    'cci_diabetes_uncomplicated', 'cci_diabetes_complicated', 'cci_paraplegia', 'cci_renal',
    'cci_malignancy', 'cci_severe_liver', 'cci_metastatic', 'cci_aids_hiv'
  ]) }}
{%- endmacro %}


{% macro icd9_chapters() -%}
  {{ return([
    'dx_ch01_infectious', 'dx_ch02_neoplasms', 'dx_ch03_endocrine', 'dx_ch04_blood',
    'dx_ch05_mental', 'dx_ch06_nervous', 'dx_ch07_circulatory', 'dx_ch08_respiratory',
    'dx_ch09_digestive', 'dx_ch10_genitourinary', 'dx_ch11_pregnancy', 'dx_ch12_skin',
    'dx_ch13_musculoskeletal', 'dx_ch14_congenital', 'dx_ch15_perinatal', 'dx_ch16_symptoms',
    'dx_ch17_injury', 'dx_ch_e_external', 'dx_ch_v_supplementary'
  ]) }}
{%- endmacro %}


{# One column per name: 1 when any row of the group has that name in `name_column`, else 0. #}
{% macro pivot_flags(name_column, names) -%}
  {%- for name in names %}
    max(case when {{ name_column }} = '{{ name }}' then 1 else 0 end)::integer as {{ name }}{{ "," if not loop.last }}
  {%- endfor %}
{%- endmacro %}


{# One column per name: the number of rows of the group with that name in `name_column`. #}
{% macro pivot_counts(name_column, names) -%}
  {%- for name in names %}
    count(*) filter (where {{ name_column }} = '{{ name }}')::integer as {{ name }}{{ "," if not loop.last }}
  {%- endfor %}
{%- endmacro %}
