"""DataCite Metadata Schema 4 record of a release, in DataCite's JSON form (`datacite.json`).

Field names follow the attributes of the DataCite REST API (schemaVersion kernel-4), so the
file can be pasted into a repository's DataCite deposit. The DOI itself is assigned by the
repository at deposit and is therefore absent.
"""

MIMIC_III_DOI = "10.13026/C2XW26"
MIMIC_III_DEMO_DOI = "10.13026/C2HM2Q"
SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"

# SPDX licence id -> canonical licence page. Other ids link to their SPDX page.
LICENCE_URLS = {
    "ODbL-1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/legalcode",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/legalcode",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
    "PDDL-1.0": "https://opendatacommons.org/licenses/pddl/1-0/",
}


def licence_url(licence: str) -> str:
    return LICENCE_URLS.get(licence, f"https://spdx.org/licenses/{licence}.html")


def _creator(name: str) -> dict:
    """Build a DataCite creator: "Family, Given" is a person, any other name an organisation."""
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return {"name": f"{family}, {given}", "nameType": "Personal", "givenName": given, "familyName": family}
    return {"name": name, "nameType": "Organizational"}


def build_datacite(
    *,
    title: str,
    version: str,
    creators: list[str],
    publisher: str,
    licence: str,
    publication_year: int,
    created: str,
    abstract: str,
    methods: str,
    dataset: str,
    sizes: list[str],
    formats: list[str],
    subjects: list[str],
) -> dict:
    """Return the DataCite 4 attributes of a release.

    A release made from the built-in simulated sample derives from no real dataset, so it has no
    IsDerivedFrom relation to MIMIC-III.
    """
    related = []
    if dataset != "sample":
        related.append(
            {
                "relatedIdentifier": MIMIC_III_DOI,
                "relatedIdentifierType": "DOI",
                "relationType": "IsDerivedFrom",
                "resourceTypeGeneral": "Dataset",
            }
        )
    if dataset == "mimic3demo":
        related.append(
            {
                "relatedIdentifier": MIMIC_III_DEMO_DOI,
                "relatedIdentifierType": "DOI",
                "relationType": "IsDerivedFrom",
                "resourceTypeGeneral": "Dataset",
            }
        )

    return {
        "schemaVersion": SCHEMA_VERSION,
        "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Synthetic tabular data"},
        "titles": [{"title": title, "lang": "en"}],
        "creators": [_creator(name) for name in creators],
        "publisher": publisher,
        "publicationYear": str(publication_year),
        "dates": [{"date": created, "dateType": "Created"}],
        "language": "en",
        "version": version,
        "subjects": [{"subject": subject} for subject in subjects],
        "rightsList": [
            {
                "rights": licence,
                "rightsUri": licence_url(licence),
                "rightsIdentifier": licence.lower(),
                "rightsIdentifierScheme": "SPDX",
                "schemeUri": "https://spdx.org/licenses/",
            }
        ],
        "descriptions": [
            {"description": abstract, "descriptionType": "Abstract", "lang": "en"},
            {"description": methods, "descriptionType": "Methods", "lang": "en"},
        ],
        "relatedIdentifiers": related,
        "sizes": sizes,
        "formats": formats,
    }
