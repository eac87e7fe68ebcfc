-- Fails with the ADMISSIONS.ETHNICITY values that seed_ethnicity_groups does not map, so a new
-- value never falls into a group silently. Add each listed value to seeds/seed_ethnicity_groups.csv.
select * from {{ ref('dq_unmapped_ethnicities') }}
