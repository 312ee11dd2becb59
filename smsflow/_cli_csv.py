"""Reading the CSV file of ``smsflow send --csv``: files as they really come (Excel included).

* The encoding is ``--encoding`` (default UTF-8; a UTF-8 byte-order mark is dropped). Each line
  is decoded on its own, so a byte that is not valid names its line and suggests
  ``--encoding cp1252`` (what Excel on Windows writes). Only ASCII-compatible encodings are
  accepted (a line ends at the byte ``\\n``).
* The separator is ``--delimiter``, or detected from the header line: the most frequent of
  ``,`` ``;`` tab and ``|`` (comma when there is none). Excel writes ``;`` in many locales.
* Column names are matched after trimming spaces. The file needs a ``destination`` column and
  either ``content`` or ``--template`` fields.

Every problem is a :class:`CsvUsageError` (exit code 2) with a plain message naming the file
and, where there is one, the line; nothing has been sent when it is raised.
"""

from __future__ import annotations

import codecs
import csv
import string
from collections.abc import Generator, Iterator
from dataclasses import dataclass

__all__ = ["CsvInput", "CsvUsageError", "open_csv"]

_DELIMITERS = (",", ";", "\t", "|")
_BOM = codecs.BOM_UTF8


class CsvUsageError(ValueError):
    """The CSV file or template cannot be used as given (exit code 2; nothing sent)."""

    def __init__(self, message: str, code: str = "BAD_INPUT") -> None:
        super().__init__(message)
        self.code = code


def file_problem(path: str, exc: OSError) -> CsvUsageError:
    """A plain message for a file that cannot be opened or read."""
    if isinstance(exc, FileNotFoundError):
        return CsvUsageError(f"{path}: no such file", "FILE_NOT_FOUND")
    if isinstance(exc, IsADirectoryError):
        return CsvUsageError(f"{path}: is a directory, not a file", "NOT_A_FILE")
    if isinstance(exc, PermissionError):
        return CsvUsageError(f"{path}: permission denied", "FILE_NOT_READABLE")
    return CsvUsageError(f"{path}: cannot be read ({exc.strerror or exc})", "FILE_NOT_READABLE")


def _template_fields(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise CsvUsageError(f"--template is not a valid template: {exc}", "BAD_TEMPLATE") from None


@dataclass(frozen=True, slots=True)
class CsvInput:
    """A checked CSV file: its settings, its row count, and its rows (read again on demand)."""

    path: str
    encoding: str
    delimiter: str
    template: str | None
    total: int

    def rows(self) -> Iterator[dict[str, str]]:
        """``{"destination", "content"}`` per data row, in file order (read lazily).

        Raises:
            CsvUsageError: the file changed and can no longer be read or decoded.
        """
        template = self.template
        for row in csv.DictReader(self._lines(), delimiter=self.delimiter):
            row = {(k or "").strip(): v or "" for k, v in row.items()}
            content = template.format_map(row) if template else row.get("content")
            yield {"destination": row.get("destination") or "", "content": content or ""}

    def _lines(self) -> Generator[str, None, None]:
        try:
            with open(self.path, "rb") as fh:
                for number, raw in enumerate(fh, start=1):
                    if number == 1:
                        raw = raw.removeprefix(_BOM)
                    try:
                        yield raw.decode(self.encoding)
                    except UnicodeDecodeError as exc:
                        raise self._decode_problem(number, raw, exc) from None
        except OSError as exc:
            raise file_problem(self.path, exc) from None

    def _decode_problem(self, number: int, raw: bytes, exc: UnicodeDecodeError) -> CsvUsageError:
        byte = raw[exc.start]
        hint = (
            "; files saved by Excel on Windows are usually cp1252: try --encoding cp1252"
            if codecs.lookup(self.encoding).name == "utf-8"
            else ""
        )
        return CsvUsageError(
            f"{self.path}: line {number} is not valid {self.encoding} "
            f"(byte 0x{byte:02x} at position {exc.start + 1}){hint}",
            "BAD_ENCODING",
        )


def _check_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise CsvUsageError(f"--encoding {encoding!r} is not a known encoding") from None
    if "a,b\n".encode(name, errors="replace") != b"a,b\n":
        raise CsvUsageError(
            f"--encoding {encoding!r} is not supported: use an ASCII-compatible encoding "
            "such as utf-8 or cp1252"
        )
    return name


def _detect(header: str) -> str:
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_csv(path: str, *, encoding: str, delimiter: str | None, template: str | None) -> CsvInput:
    """Check the file (readable, decodable, the needed columns) and count its rows.

    Raises:
        CsvUsageError: the file is missing, a directory, unreadable, not in ``encoding``,
            lacks a needed column, or ``template`` is not usable.
    """
    if template is not None and any(not name for name in _template_fields(template)):
        raise CsvUsageError("--template fields must be named, e.g. {first_name}", "BAD_TEMPLATE")
    name = _check_encoding(encoding)
    probe = CsvInput(path, name, delimiter or ",", template, 0)
    lines = probe._lines()
    try:
        header_line = next(lines, "")
    finally:
        lines.close()
    chosen = delimiter or _detect(header_line)
    header = {h.strip() for h in next(csv.reader([header_line], delimiter=chosen), []) if h.strip()}
    needed = {"destination"} | (_template_fields(template) if template else {"content"})
    missing = sorted(needed - header)
    if missing:
        shown = ", ".join(sorted(header)) or "none"
        raise CsvUsageError(
            f"{path}: missing column(s) {', '.join(missing)} (columns: {shown}; "
            f"separator {'tab' if chosen == chr(9) else repr(chosen)}; use --delimiter "
            "if that is wrong)",
            "MISSING_COLUMNS",
        )
    checked = CsvInput(path, name, chosen, template, 0)
    total = sum(1 for _ in csv.DictReader(checked._lines(), delimiter=chosen))
    return CsvInput(path, name, chosen, template, total)
