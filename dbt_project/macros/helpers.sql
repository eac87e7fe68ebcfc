{# Completed years between two timestamps (the age on the day of `at`). #}
{% macro age_in_years(birth, at) -%}
  date_part('year', age({{ at }}, {{ birth }}))::integer
{%- endmacro %}


{# Fractional days between two timestamps. #}
{% macro days_between(start, stop) -%}
  (epoch({{ stop }}) - epoch({{ start }})) / 86400.0
{%- endmacro %}


{# Trimmed text with empty strings as null. #}
{% macro clean_text(column) -%}
  nullif(trim({{ column }}), '')
{%- endmacro %}


{#
  1 for the first copy of a row and 2, 3, ... for later exact copies: rows equal in every
  column except the surrogate key `row_id`. Use in a select over a single relation.
#}
{% macro exact_copy_number(key='row_id') -%}
  row_number() over (partition by struct_pack(*columns(* exclude ({{ key }}))) order by {{ key }})
{%- endmacro %}
