"""Stream tables to gzipped CSV files in the full MIMIC-III release's form.

The full release quotes every header and every text value, leaves numbers and timestamps
unquoted, writes NULL as an empty field and separates rows with "\n". Files are gzipped with
mtime 0 and no file name in the header, so the same rows always give byte-identical files.
"""

import gzip
from pathlib import Path

import numpy as np

GZIP_LEVEL = 3


def quote(values: np.ndarray) -> np.ndarray:
    """Quote text values CSV-style; None becomes an empty field. Returns an object array."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = "" if value is None else '"' + value.replace('"', '""') + '"'
    return out


def categorical(index: np.ndarray, vocabulary: list[str | None]) -> np.ndarray:
    """Format indices into a vocabulary of text values (None for NULL) as quoted fields."""
    quoted = quote(np.array(vocabulary, dtype=object))
    return quoted[index]


def integers(values: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """Format integers; rows where `null` is True become empty fields."""
    out = values.astype(np.int64).astype(str)
    if null is not None:
        out[null] = ""
    return out


def decimals(values: np.ndarray, places: int, null: np.ndarray | None = None) -> np.ndarray:
    """Format floats rounded to `places` decimals; NaN or `null` rows become empty fields."""
    rounded = np.round(values.astype(float), places)
    out = rounded.astype(str)
    missing = np.isnan(rounded) if null is None else (null | np.isnan(rounded))
    out[missing] = ""
    return out


def timestamps(values: np.ndarray) -> np.ndarray:
    """Format datetime64 values as 'YYYY-MM-DD HH:MM:SS'; NaT becomes an empty field."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
    missing = np.isnat(values)
    text = np.where(missing, "0000-00-00T00:00:00", text).astype("<U19")
    # Swap the ISO "T" for a space by editing the fixed-width UTF-32 code units in place.
    codes = text.view(np.uint32).reshape(len(text), 19)
    codes[:, 10] = ord(" ")
    out = codes.reshape(-1).view("<U19").copy()
    out[missing] = ""
    return out


class GzipCsvWriter:
    """One gzipped CSV file that receives rows in batches."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = path
        self.columns = columns
        self.rows = 0
        self._raw = open(path, "wb")
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=GZIP_LEVEL)
        header = ",".join('"' + c + '"' for c in columns) + "\n"
        self._gzip.write(header.encode("utf-8"))

    def write(self, fields: dict[str, np.ndarray]) -> None:
        """Append rows given as formatted field arrays, one per column, all the same length."""
        missing = [c for c in self.columns if c not in fields]
        if missing:
            raise ValueError(f"{self.path.name}: no values for columns {missing}")
        n = len(fields[self.columns[0]])
        if n == 0:
            return
        columns = [np.asarray(fields[c]).tolist() for c in self.columns]
        lengths = {len(c) for c in columns}
        if lengths != {n}:
            raise ValueError(f"{self.path.name}: columns have different lengths {sorted(lengths)}")
        text = "\n".join(map(",".join, zip(*columns))) + "\n"
        self._gzip.write(text.encode("utf-8"))
        self.rows += n

    def close(self) -> None:
        self._gzip.close()
        self._raw.close()
