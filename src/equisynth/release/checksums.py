"""SHA256SUMS files in the format of GNU `sha256sum`, so `sha256sum -c SHA256SUMS` checks a release."""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from equisynth.errors import NotFoundError

SUMS_FILE = "SHA256SUMS"

# `<64 hex digits><space><space or *><file name>`: text and binary mode lines of sha256sum.
SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_sums(folder: Path) -> dict[str, str]:
    """Write SHA256SUMS for every other file in the folder; return file name -> SHA-256."""
    sums = {
        path.name: sha256_file(path)
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != SUMS_FILE
    }
    lines = "".join(f"{digest}  {name}\n" for name, digest in sums.items())
    (folder / SUMS_FILE).write_text(lines, encoding="utf-8")
    return sums


@dataclass
class VerifyReport:
    """Outcome of re-checking a release folder against its SHA256SUMS."""

    folder: Path
    checked: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    malformed_lines: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.missing or self.extra or self.malformed_lines)

    def describe_problems(self) -> str:
        parts = []
        if self.mismatched:
            parts.append(f"checksum mismatch: {', '.join(self.mismatched)}")
        if self.missing:
            parts.append(f"listed but missing: {', '.join(self.missing)}")
        if self.extra:
            parts.append(f"present but not listed: {', '.join(self.extra)}")
        if self.malformed_lines:
            parts.append(f"malformed {SUMS_FILE} line(s): {', '.join(map(str, self.malformed_lines))}")
        return "; ".join(parts)


def verify(folder: Path | str) -> VerifyReport:
    """Recompute the SHA-256 of every file listed in `folder/SHA256SUMS` and look for unlisted files."""
    folder = Path(folder)
    sums_path = folder / SUMS_FILE
    if not folder.is_dir():
        raise NotFoundError(f"Release folder {folder} does not exist.")
    if not sums_path.is_file():
        raise NotFoundError(f"{sums_path} is missing, so {folder} cannot be verified. Is it a release folder?")

    report = VerifyReport(folder=folder)
    listed = set()
    for number, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        match = SUM_LINE.match(line)
        name = match.group(2) if match else None
        # A listed name must be a plain file name inside the folder, never a path that leaves it.
        if match is None or "/" in name or "\\" in name or name in (".", ".."):
            report.malformed_lines.append(number)
            continue

        listed.add(name)
        path = folder / name
        if not path.is_file():
            report.missing.append(name)
        elif sha256_file(path) != match.group(1).lower():
            report.mismatched.append(name)
        else:
            report.checked.append(name)

    present = {path.name for path in folder.iterdir() if path.name != SUMS_FILE}
    report.extra = sorted(present - listed)
    return report
