"""The 26 tables of MIMIC-III v1.4: column names, DuckDB types and how much the loader needs each.

Columns and types follow the MIMIC-III documentation as encoded in MIT-LCP/mimic-code's
`mimic-iii/buildmimic/postgres/postgres_create_tables.sql`, mapped to DuckDB:
INT and SMALLINT become INTEGER, DOUBLE PRECISION becomes DOUBLE, TIMESTAMP(0) becomes TIMESTAMP,
and VARCHAR(n), CHAR(n) and TEXT become VARCHAR. Codes (ICD-9, CPT, DRG, NDC, GSN) stay VARCHAR,
because their leading zeros matter: ICD-9 `0389` is not `389`.
"""

from dataclasses import dataclass
from enum import Enum


class Tier(str, Enum):
    """Treatment of a table whose file is missing from the input folder."""

    REQUIRED = "required"  # the mart cannot be built without it: reject the load
    STANDARD = "standard"  # created empty with a warning, so every dbt staging model builds
    OPTIONAL = "optional"  # loaded only when present


@dataclass(frozen=True)
class Column:
    name: str  # lower-case, as in the demo's headers and in the warehouse
    type: str  # DuckDB type


@dataclass(frozen=True)
class TableSpec:
    name: str  # upper-case release name, e.g. ADMISSIONS
    tier: Tier
    columns: tuple[Column, ...]

    @property
    def table_name(self) -> str:
        """Warehouse table name (lower-case)."""
        return self.name.lower()

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


_TYPE_LETTERS = {"I": "INTEGER", "D": "DOUBLE", "T": "TIMESTAMP", "V": "VARCHAR"}


def _table(name: str, tier: Tier, columns: str) -> TableSpec:
    """Build a TableSpec from `"column:LETTER column:LETTER ..."`, letters as in _TYPE_LETTERS."""
    parsed = []
    for item in columns.split():
        column_name, type_letter = item.split(":")
        parsed.append(Column(column_name, _TYPE_LETTERS[type_letter]))
    return TableSpec(name, tier, tuple(parsed))


_SPECS = [
    # Required: the multimorbidity mart reads these.
    _table("PATIENTS", Tier.REQUIRED, """
        row_id:I subject_id:I gender:V dob:T dod:T dod_hosp:T dod_ssn:T expire_flag:I"""),
    _table("ADMISSIONS", Tier.REQUIRED, """
        row_id:I subject_id:I hadm_id:I admittime:T dischtime:T deathtime:T admission_type:V
        admission_location:V discharge_location:V insurance:V language:V religion:V
        marital_status:V ethnicity:V edregtime:T edouttime:T diagnosis:V
        hospital_expire_flag:I has_chartevents_data:I"""),
    _table("DIAGNOSES_ICD", Tier.REQUIRED, """
        row_id:I subject_id:I hadm_id:I seq_num:I icd9_code:V"""),
    _table("D_ICD_DIAGNOSES", Tier.REQUIRED, """
        row_id:I icd9_code:V short_title:V long_title:V"""),
    _table("ICUSTAYS", Tier.REQUIRED, """
        row_id:I subject_id:I hadm_id:I icustay_id:I dbsource:V first_careunit:V
        last_careunit:V first_wardid:I last_wardid:I intime:T outtime:T los:D"""),

    # Standard: dbt staging models exist for these; releases of synthetic data lack them.
    _table("PROCEDURES_ICD", Tier.STANDARD, """
        row_id:I subject_id:I hadm_id:I seq_num:I icd9_code:V"""),
    _table("D_ICD_PROCEDURES", Tier.STANDARD, """
        row_id:I icd9_code:V short_title:V long_title:V"""),
    _table("PRESCRIPTIONS", Tier.STANDARD, """
        row_id:I subject_id:I hadm_id:I icustay_id:I startdate:T enddate:T drug_type:V
        drug:V drug_name_poe:V drug_name_generic:V formulary_drug_cd:V gsn:V ndc:V
        prod_strength:V dose_val_rx:V dose_unit_rx:V form_val_disp:V form_unit_disp:V route:V"""),
    _table("SERVICES", Tier.STANDARD, """
        row_id:I subject_id:I hadm_id:I transfertime:T prev_service:V curr_service:V"""),
    _table("TRANSFERS", Tier.STANDARD, """
        row_id:I subject_id:I hadm_id:I icustay_id:I dbsource:V eventtype:V prev_careunit:V
        curr_careunit:V prev_wardid:I curr_wardid:I intime:T outtime:T los:D"""),

    # Optional: the rest of the release, loaded when present.
    _table("CALLOUT", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I submit_wardid:I submit_careunit:V curr_wardid:I
        curr_careunit:V callout_wardid:I callout_service:V request_tele:I request_resp:I
        request_cdiff:I request_mrsa:I request_vre:I callout_status:V callout_outcome:V
        discharge_wardid:I acknowledge_status:V createtime:T updatetime:T acknowledgetime:T
        outcometime:T firstreservationtime:T currentreservationtime:T"""),
    _table("CAREGIVERS", Tier.OPTIONAL, """
        row_id:I cgid:I label:V description:V"""),
    _table("CHARTEVENTS", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I icustay_id:I itemid:I charttime:T storetime:T cgid:I
        value:V valuenum:D valueuom:V warning:I error:I resultstatus:V stopped:V"""),
    _table("CPTEVENTS", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I costcenter:V chartdate:T cpt_cd:V cpt_number:I
        cpt_suffix:V ticket_id_seq:I sectionheader:V subsectionheader:V description:V"""),
    _table("DATETIMEEVENTS", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I icustay_id:I itemid:I charttime:T storetime:T cgid:I
        value:T valueuom:V warning:I error:I resultstatus:V stopped:V"""),
    _table("DRGCODES", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I drg_type:V drg_code:V description:V drg_severity:I
        drg_mortality:I"""),
    _table("D_CPT", Tier.OPTIONAL, """
        row_id:I category:I sectionrange:V sectionheader:V subsectionrange:V
        subsectionheader:V codesuffix:V mincodeinsubsection:I maxcodeinsubsection:I"""),
    _table("D_ITEMS", Tier.OPTIONAL, """
        row_id:I itemid:I label:V abbreviation:V dbsource:V linksto:V category:V unitname:V
        param_type:V conceptid:I"""),
    _table("D_LABITEMS", Tier.OPTIONAL, """
        row_id:I itemid:I label:V fluid:V category:V loinc_code:V"""),
    _table("INPUTEVENTS_CV", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I icustay_id:I charttime:T itemid:I amount:D amountuom:V
        rate:D rateuom:V storetime:T cgid:I orderid:I linkorderid:I stopped:V newbottle:I
        originalamount:D originalamountuom:V originalroute:V originalrate:D originalrateuom:V
        originalsite:V"""),
    _table("INPUTEVENTS_MV", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I icustay_id:I starttime:T endtime:T itemid:I amount:D
        amountuom:V rate:D rateuom:V storetime:T cgid:I orderid:I linkorderid:I
        ordercategoryname:V secondaryordercategoryname:V ordercomponenttypedescription:V
        ordercategorydescription:V patientweight:D totalamount:D totalamountuom:V isopenbag:I
        continueinnextdept:I cancelreason:I statusdescription:V comments_editedby:V
        comments_canceledby:V comments_date:T originalamount:D originalrate:D"""),
    _table("LABEVENTS", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I itemid:I charttime:T value:V valuenum:D valueuom:V
        flag:V"""),
    _table("MICROBIOLOGYEVENTS", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I chartdate:T charttime:T spec_itemid:I spec_type_desc:V
        org_itemid:I org_name:V isolate_num:I ab_itemid:I ab_name:V dilution_text:V
        dilution_comparison:V dilution_value:D interpretation:V"""),
    _table("NOTEEVENTS", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I chartdate:T charttime:T storetime:T category:V
        description:V cgid:I iserror:V text:V"""),
    _table("OUTPUTEVENTS", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I icustay_id:I charttime:T itemid:I value:D valueuom:V
        storetime:T cgid:I stopped:V newbottle:V iserror:I"""),
    _table("PROCEDUREEVENTS_MV", Tier.OPTIONAL, """
        row_id:I subject_id:I hadm_id:I icustay_id:I starttime:T endtime:T itemid:I value:D
        valueuom:V location:V locationcategory:V storetime:T cgid:I orderid:I linkorderid:I
        ordercategoryname:V secondaryordercategoryname:V ordercategorydescription:V
        isopenbag:I continueinnextdept:I cancelreason:I statusdescription:V
        comments_editedby:V comments_canceledby:V comments_date:T"""),
]

# NOTE: the columns of the 23 tables in the open demo are checked against its files; CHARTEVENTS,
# LABEVENTS and INPUTEVENTS_CV follow the mimic-code DDL only, because the demo lacks them.
# Release name (upper-case) -> spec, required tables first, then standard, then optional.
TABLES: dict[str, TableSpec] = {spec.name: spec for spec in _SPECS}

REQUIRED_TABLES = [spec.name for spec in _SPECS if spec.tier is Tier.REQUIRED]
STANDARD_TABLES = [spec.name for spec in _SPECS if spec.tier is Tier.STANDARD]
OPTIONAL_TABLES = [spec.name for spec in _SPECS if spec.tier is Tier.OPTIONAL]
