-- Real and synthetic admissions side by side, in DuckDB SQL over the equisynth warehouse.
-- Run with `duckdb warehouse/equisynth.duckdb < docs/example_queries.sql`, or one query at a time.
--
-- main.mm_admission_features_all contains the real mart (source = 'real') and the mart of every
-- decoded generation (source = the generation id). Each query compares the latest generation in
-- ml.generations. Put a generation id in the `chosen` step to compare another one.


-- 1. Subgroup shares among multimorbid admissions, before and after rebalancing.
--    Before: the real training rows of the generation's model run. After: those rows plus the
--    generation's synthetic rows (augment mode). Target: the share the plan asked for.
--    The group labels match the plan's default, by = ["ethnicity_group"]. For a plan by ethnicity group
--    and insurance, write ethnicity_group || ' x ' || insurance in both places marked "group".
with

chosen as (

    select generation_id, run_id
    from ml.generations
    order by created_at desc
    limit 1

),

training_patients as (

    select splits.subject_id

    from ml.splits as splits
    inner join ml.model_runs as runs
        on runs.split_id = splits.split_id
    inner join chosen
        on chosen.run_id = runs.run_id

    where splits.part = 'train'

),

real_rows as (

    select ethnicity_group as group_label  -- group

    from main.mm_admission_features_all

    where source = 'real'
      and multimorbid = 1
      and subject_id in (select subject_id from training_patients)

),

synthetic_rows as (

    select ethnicity_group as group_label  -- group

    from main.mm_admission_features_all

    where source = (select generation_id from chosen)
      and multimorbid = 1

),

before_rebalancing as (

    select group_label, count(*) as admissions
    from real_rows
    group by group_label

),

after_rebalancing as (

    select group_label, count(*) as admissions
    from (select * from real_rows union all select * from synthetic_rows)
    group by group_label

),

plan as (

    select group_label, target_share
    from ml.rebalance_plans
    where generation_id = (select generation_id from chosen)

)

select
    after_rebalancing.group_label,
    coalesce(before_rebalancing.admissions, 0) as real_admissions,
    round(coalesce(before_rebalancing.admissions, 0) / sum(before_rebalancing.admissions) over (), 3) as share_before,
    after_rebalancing.admissions as admissions_after,
    round(after_rebalancing.admissions / sum(after_rebalancing.admissions) over (), 3) as share_after,
    round(plan.target_share, 3) as target_share

from after_rebalancing
left join before_rebalancing
    on before_rebalancing.group_label = after_rebalancing.group_label
left join plan
    on plan.group_label = after_rebalancing.group_label

order by share_before, after_rebalancing.group_label;


-- 2. Multimorbidity prevalence (two or more Elixhauser conditions) by ethnicity group,
--    real against the latest generation.
with

chosen as (

    select generation_id
    from ml.generations
    order by created_at desc
    limit 1

),

compared as (

    select *
    from main.mm_admission_features_all
    where source = 'real'
       or source = (select generation_id from chosen)

)

select
    ethnicity_group,
    source,
    count(*) as admissions,
    round(avg(multimorbid), 3) as multimorbidity_prevalence,
    round(avg(elixhauser_count), 2) as mean_elixhauser_count

from compared

group by ethnicity_group, source

order by ethnicity_group, source = 'real' desc;


-- 3. Distribution of the Elixhauser count (conditions per admission, 6 or more pooled),
--    real against the latest generation: the share of each source's admissions per count.
with

chosen as (

    select generation_id
    from ml.generations
    order by created_at desc
    limit 1

),

counted as (

    select
        source,
        least(elixhauser_count, 6) as elixhauser_conditions

    from main.mm_admission_features_all

    where source = 'real'
       or source = (select generation_id from chosen)

),

per_count as (

    select source, elixhauser_conditions, count(*) as admissions
    from counted
    group by source, elixhauser_conditions

)

select
    elixhauser_conditions,
    sum(admissions) filter (where source = 'real') as real_admissions,
    round(sum(admissions) filter (where source = 'real') / (select count(*) from counted where source = 'real'), 3) as real_share,
    sum(admissions) filter (where source <> 'real') as synthetic_admissions,
    round(sum(admissions) filter (where source <> 'real') / (select count(*) from counted where source <> 'real'), 3) as synthetic_share

from per_count

group by elixhauser_conditions

order by elixhauser_conditions;
