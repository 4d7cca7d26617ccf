"""Thai-aware value types shared by schemas, adapters and central applications.

This is the one place that knows the Thai conventions every layer must get right
(DOMAIN.md §7), so that a citizen ID checked by the HR adapter and one checked by
the telework application fail for the same reason with the same message.

Features
--------
* Citizen ID (เลขประจำตัวประชาชน) and juristic-person ID (เลขทะเบียนนิติบุคคล):
  validation, normalisation to 13 ASCII digits, display formatting. The check digit
  is ``(11 - sum(d_i * (14 - i) for i in 1..12) mod 11) mod 10``; the arithmetic is
  python-stdnum's (``stdnum.th.pin`` / ``stdnum.th.moa``), the messages are ours.
* Thai digits ๐–๙ (U+0E50–U+0E59) to ASCII.
* Buddhist Era (พ.ศ.) versus Common Era dates with an explicit :class:`Calendar`,
  BE = CE + 543, parsing of strings that may be in either era, and the Thai
  government fiscal year (1 October – 30 September, labelled in BE).
* :func:`decode_legacy` for TIS-620 / windows-874 bytes from legacy databases.
* Location codes (province 2 digits, district 4, subdistrict 6) checked against
  the ``geothai`` gazetteer.
* Pydantic-ready ``Annotated`` types: :data:`CitizenId`, :data:`JuristicId`,
  :data:`BEYear`, :data:`FiscalYearBE`, :data:`ThaiDate`, :data:`ProvinceCode`,
  :data:`DistrictCode`, :data:`SubdistrictCode`.

Every failure is a :class:`ThaiValueError` (a ``ValueError``, so pydantic reports it
as a validation error) whose ``rule`` attribute names the rule that failed and whose
message names the expected value.

Pure domain code: no web framework, ORM or XML library is imported here.
"""

from __future__ import annotations

import datetime as _dt
import enum
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from stdnum import exceptions as _stdnum_exc
from stdnum.th import moa as _moa
from stdnum.th import pin as _pin

__all__ = [
    "BE_OFFSET",
    "BE_YEAR_THRESHOLD",
    "BEYear",
    "Calendar",
    "CitizenId",
    "DistrictCode",
    "FiscalYearBE",
    "JuristicId",
    "LegacyDecodeError",
    "ProvinceCode",
    "SubdistrictCode",
    "ThaiDate",
    "ThaiValueError",
    "be_to_ce_year",
    "ce_to_be_year",
    "check_digit",
    "decode_legacy",
    "detect_calendar",
    "fiscal_year",
    "fiscal_year_bounds",
    "format_citizen_id",
    "format_date",
    "format_juristic_id",
    "is_valid_citizen_id",
    "is_valid_juristic_id",
    "normalize_digits",
    "parse_date",
    "parse_datetime",
    "validate_citizen_id",
    "validate_district_code",
    "validate_juristic_id",
    "validate_province_code",
    "validate_subdistrict_code",
]


class ThaiValueError(ValueError):
    """A value broke a Thai convention.

    ``field`` is the kind of value ("citizen ID", "BE year", ...), ``rule`` a short
    stable name of the rule that failed ("length", "digits", "check_digit",
    "first_digit", "range", "format", "calendar", "unknown_code", ...), so callers
    can branch on the rule without parsing the message.
    """

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule


class LegacyDecodeError(ThaiValueError):
    """Bytes that are not valid in the legacy encoding; ``offset`` is the first bad byte."""

    def __init__(self, message: str, *, offset: int, byte: int, encoding: str) -> None:
        super().__init__(message, field="legacy text", rule="encoding")
        self.offset = offset
        self.byte = byte
        self.encoding = encoding


# ---------------------------------------------------------------------------
# Thai digits
# ---------------------------------------------------------------------------

_THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_THAI_TO_ASCII = str.maketrans(_THAI_DIGITS, "0123456789")


def normalize_digits(text: str) -> str:
    """Replace Thai digits ๐–๙ with ASCII 0–9; every other character is kept."""
    return text.translate(_THAI_TO_ASCII)


# ---------------------------------------------------------------------------
# Citizen and juristic IDs
# ---------------------------------------------------------------------------

# Separators people type between digit groups; stripping more than this (e.g. dots)
# would silently accept values that are probably something else.
_ID_SEPARATORS = re.compile(r"[\s\-]")


def _compact_id(value: object, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ThaiValueError(
            f"{field} must be a string of 13 digits, got {type(value).__name__}",
            field=field,
            rule="type",
        )
    text = normalize_digits(str(value))
    compact = _ID_SEPARATORS.sub("", text)
    for position, char in enumerate(compact, start=1):
        if not char.isascii() or not char.isdigit():
            raise ThaiValueError(
                f"{field} contains {char!r} at digit position {position}; only digits "
                "(ASCII or Thai ๐-๙) with optional '-' or space separators are allowed",
                field=field,
                rule="digits",
            )
    if len(compact) != 13:
        raise ThaiValueError(
            f"{field} must have 13 digits, got {len(compact)}", field=field, rule="length"
        )
    return compact


def check_digit(first12: str) -> int:
    """Check digit for the first 12 digits of a citizen or juristic ID.

    ``(11 - (sum of d_i * (14 - i) for i = 1..12) mod 11) mod 10``.
    """
    digits = normalize_digits(first12)
    if len(digits) != 12 or not (digits.isascii() and digits.isdigit()):
        raise ThaiValueError(
            f"check digit needs exactly 12 digits, got {first12!r}",
            field="ID",
            rule="length",
        )
    return int(_pin.calc_check_digit(digits))


def _check_with_stdnum(compact: str, module: Any, field: str, first_rule: str) -> str:
    try:
        return module.validate(compact)
    except _stdnum_exc.InvalidChecksum:
        expected = check_digit(compact[:12])
        raise ThaiValueError(
            f"{field} check digit is {compact[12]}, expected {expected}",
            field=field,
            rule="check_digit",
        ) from None
    except _stdnum_exc.InvalidComponent:
        raise ThaiValueError(
            f"{field} cannot start with {compact[0]}: {first_rule}",
            field=field,
            rule="first_digit",
        ) from None
    except _stdnum_exc.ValidationError as exc:
        # Length and digits were checked above; anything else is a stdnum rule we do
        # not know by name, so report stdnum's own wording rather than guess.
        raise ThaiValueError(f"{field} is invalid: {exc}", field=field, rule="format") from None


def validate_citizen_id(value: str | int) -> str:
    """Return the citizen ID as 13 ASCII digits or raise :class:`ThaiValueError`.

    Accepts Thai digits and the ``1-2345-67890-12-3`` display form. The first digit is
    the person category 1–8: 0 is the juristic-person range and 9 is not issued.
    """
    compact = _compact_id(value, "citizen ID")
    return _check_with_stdnum(
        compact,
        _pin,
        "citizen ID",
        "the first digit of a citizen ID is the person category 1-8 "
        "(IDs starting with 0 are juristic-person IDs)",
    )


def is_valid_citizen_id(value: str | int) -> bool:
    """True when :func:`validate_citizen_id` accepts ``value``."""
    try:
        validate_citizen_id(value)
    except ThaiValueError:
        return False
    return True


def format_citizen_id(value: str | int) -> str:
    """Validate and format as ``1-2345-67890-12-3``."""
    return _pin.format(validate_citizen_id(value))


def validate_juristic_id(value: str | int) -> str:
    """Return the juristic-person ID (DBD registration / company TIN) as 13 digits.

    Juristic IDs always start with 0 and share the citizen-ID check digit.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        # An integer has lost its leading zero; a 12-digit int is the common case.
        value = str(value).zfill(13)
    compact = _compact_id(value, "juristic ID")
    return _check_with_stdnum(
        compact, _moa, "juristic ID", "juristic-person IDs always start with 0"
    )


def is_valid_juristic_id(value: str | int) -> bool:
    """True when :func:`validate_juristic_id` accepts ``value``."""
    try:
        validate_juristic_id(value)
    except ThaiValueError:
        return False
    return True


def format_juristic_id(value: str | int) -> str:
    """Validate and format the way DBD prints it: ``0-10-5-536-12345-6``."""
    return _moa.format(validate_juristic_id(value))


# ---------------------------------------------------------------------------
# Buddhist Era / Common Era
# ---------------------------------------------------------------------------

BE_OFFSET = 543
"""Buddhist Era year = Common Era year + 543."""

BE_YEAR_THRESHOLD = 2400
"""Years above this are read as BE when the calendar is not stated.

Why it is safe: BE 2400 is CE 1857, before any record a government back office
holds, and CE 2400 is far beyond any date it will store, so a four-digit year above
2400 can only be BE and one at or below it only CE. Callers who know the calendar
should say so with ``calendar=`` instead of relying on this.
"""

_MIN_BE_YEAR = 2400
_MAX_BE_YEAR = 2800


class Calendar(str, enum.Enum):
    """The era a year is counted in."""

    BE = "BE"  # พุทธศักราช
    CE = "CE"  # คริสต์ศักราช


def be_to_ce_year(year: int) -> int:
    """Buddhist Era year to Common Era year."""
    return year - BE_OFFSET


def ce_to_be_year(year: int) -> int:
    """Common Era year to Buddhist Era year."""
    return year + BE_OFFSET


def detect_calendar(year: int) -> Calendar:
    """Guess the era of a four-digit year: ``year > 2400`` ⇒ BE, otherwise CE."""
    return Calendar.BE if year > BE_YEAR_THRESHOLD else Calendar.CE


def _to_ce(year: int, calendar: Calendar | str | None) -> int:
    era = detect_calendar(year) if calendar is None else Calendar(calendar)
    return be_to_ce_year(year) if era is Calendar.BE else year


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_THAI_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATETIME = re.compile(
    r"^(?P<date>[^\sT]+)[T\s](?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?$"
)


def parse_date(text: str, calendar: Calendar | str | None = None) -> _dt.date:
    """Parse a date that may be written in BE or CE; the result is always CE.

    Accepted forms: ``YYYY-MM-DD`` (ISO order, as DPIS and the hub standards write it)
    and ``DD/MM/YYYY`` (the order Thai forms and spreadsheets use), with ASCII or Thai
    digits. With ``calendar=None`` the era is guessed from the year
    (see :data:`BE_YEAR_THRESHOLD`): ``"2567-10-01"`` is 1 October 2024.
    """
    if not isinstance(text, str):
        raise ThaiValueError(
            f"date must be a string, got {type(text).__name__}", field="date", rule="type"
        )
    normalized = normalize_digits(text.strip())
    match = _ISO_DATE.match(normalized)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _THAI_DATE.match(normalized)
        if not match:
            raise ThaiValueError(
                f"date {text!r} is not in a known form; expected YYYY-MM-DD or DD/MM/YYYY "
                "(year in BE or CE)",
                field="date",
                rule="format",
            )
        day, month, year = (int(g) for g in match.groups())
    ce_year = _to_ce(year, calendar)
    try:
        return _dt.date(ce_year, month, day)
    except ValueError as exc:
        era = detect_calendar(year) if calendar is None else Calendar(calendar)
        raise ThaiValueError(
            f"date {text!r} ({era.value} year {year} = CE {ce_year}) does not exist: {exc}",
            field="date",
            rule="calendar",
        ) from None


def parse_datetime(text: str, calendar: Calendar | str | None = None) -> _dt.datetime:
    """Parse ``<date> HH:MM[:SS[.ffffff]]`` (space or ``T``) with a BE or CE date part.

    This is the shape of DPIS ``TIME_STAMP`` values (``'YYYY-MM-DD HH:MM:SS'``). The
    result is naive: legacy stamps carry no zone and are Asia/Bangkok local time.
    """
    if not isinstance(text, str):
        raise ThaiValueError(
            f"date-time must be a string, got {type(text).__name__}",
            field="date-time",
            rule="type",
        )
    normalized = normalize_digits(text.strip())
    match = _DATETIME.match(normalized)
    if not match:
        raise ThaiValueError(
            f"date-time {text!r} is not in a known form; expected 'YYYY-MM-DD HH:MM:SS'",
            field="date-time",
            rule="format",
        )
    day = parse_date(match["date"], calendar)
    fraction = (match["f"] or "0").ljust(6, "0")
    try:
        clock = _dt.time(int(match["h"]), int(match["m"]), int(match["s"] or 0), int(fraction))
    except ValueError as exc:
        raise ThaiValueError(
            f"date-time {text!r} has an impossible time of day: {exc}",
            field="date-time",
            rule="range",
        ) from None
    return _dt.datetime.combine(day, clock)


def format_date(value: _dt.date, calendar: Calendar | str = Calendar.BE) -> str:
    """Write a date as ``YYYY-MM-DD`` with the year in the given era."""
    era = Calendar(calendar)
    year = ce_to_be_year(value.year) if era is Calendar.BE else value.year
    return f"{year:04d}-{value.month:02d}-{value.day:02d}"


THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม",
               "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def thai_date(value: _dt.date, *, thai_digits: bool = False) -> str:
    """A date as an official Thai text reads it: ``2 พฤศจิกายน 2569`` (day, Thai month name,
    Buddhist-Era year); ``thai_digits`` writes ``๒ พฤศจิกายน ๒๕๖๙`` as forms that use them do."""
    text = f"{value.day} {THAI_MONTHS[value.month - 1]} {ce_to_be_year(value.year)}"
    return text.translate(_THAI_DIGITS) if thai_digits else text


def fiscal_year(value: _dt.date, calendar: Calendar | str = Calendar.BE) -> int:
    """Thai government fiscal year of a date (1 October – 30 September).

    The year is named after the calendar year it ends in: 1 October 2024 starts
    FY 2025 CE, labelled FY 2568 in BE (the default, as GFMIS labels it).
    """
    ce_year = value.year + 1 if value.month >= 10 else value.year
    return ce_to_be_year(ce_year) if Calendar(calendar) is Calendar.BE else ce_year


def fiscal_year_bounds(year: int, calendar: Calendar | str | None = Calendar.BE) -> tuple[_dt.date, _dt.date]:
    """First and last day (CE dates) of a fiscal year: FY 2568 → (2024-10-01, 2025-09-30)."""
    ce_year = _to_ce(year, calendar)
    return _dt.date(ce_year - 1, 10, 1), _dt.date(ce_year, 9, 30)


# ---------------------------------------------------------------------------
# Legacy text
# ---------------------------------------------------------------------------

_LEGACY_ENCODINGS = {"cp874", "windows-874", "tis-620", "tis620", "tis_620", "iso8859_11", "iso-8859-11"}


def decode_legacy(data: bytes, encoding: str = "cp874") -> str:
    """Decode TIS-620 / windows-874 bytes from a legacy system.

    windows-874 (``cp874``) is the default because it is a superset of TIS-620 that
    also maps the typographic quotes and ellipsis Windows clients put in free text.
    Fails with :class:`LegacyDecodeError` naming the offset of the first byte that is
    not valid in the encoding, instead of silently substituting characters.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ThaiValueError(
            f"decode_legacy needs bytes, got {type(data).__name__}",
            field="legacy text",
            rule="type",
        )
    if encoding.lower() not in _LEGACY_ENCODINGS:
        raise ThaiValueError(
            f"decode_legacy handles Thai legacy encodings {sorted(_LEGACY_ENCODINGS)}, "
            f"not {encoding!r}",
            field="legacy text",
            rule="encoding",
        )
    raw = bytes(data)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = raw[exc.start]
        context = raw[max(0, exc.start - 8) : exc.start + 8]
        raise LegacyDecodeError(
            f"byte 0x{bad:02X} at offset {exc.start} is not valid {encoding} "
            f"(TIS-620/windows-874) text; nearby bytes: {context!r}",
            offset=exc.start,
            byte=bad,
            encoding=encoding,
        ) from None


# ---------------------------------------------------------------------------
# Location codes (Department of Provincial Administration numbering)
# ---------------------------------------------------------------------------


def _location_code(value: object, field: str, length: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ThaiValueError(
            f"{field} must be a string of {length} digits, got {type(value).__name__}",
            field=field,
            rule="type",
        )
    code = normalize_digits(value.strip())
    if len(code) != length or not (code.isascii() and code.isdigit()):
        raise ThaiValueError(
            f"{field} must be exactly {length} digits, got {value!r}", field=field, rule="format"
        )
    return code


def validate_province_code(value: str | int) -> str:
    """Two-digit province code known to the geothai gazetteer (``"10"`` = Bangkok)."""
    import geothai  # imported lazily: the gazetteer data loads on first use

    code = _location_code(value, "province code", 2)
    if geothai.province(code) is None:
        raise ThaiValueError(f"province code {code} does not exist", field="province code", rule="unknown_code")
    return code


def validate_district_code(value: str | int) -> str:
    """Four-digit district (อำเภอ/เขต) code; its first two digits are the province."""
    import geothai

    code = _location_code(value, "district code", 4)
    if geothai.district(code) is None:
        raise ThaiValueError(f"district code {code} does not exist", field="district code", rule="unknown_code")
    return code


def validate_subdistrict_code(value: str | int) -> str:
    """Six-digit subdistrict (ตำบล/แขวง) code; its first four digits are the district."""
    import geothai

    code = _location_code(value, "subdistrict code", 6)
    if geothai.subdistrict(code) is None:
        raise ThaiValueError(
            f"subdistrict code {code} does not exist", field="subdistrict code", rule="unknown_code"
        )
    return code


# ---------------------------------------------------------------------------
# Pydantic annotated types
# ---------------------------------------------------------------------------


def _check_be_year(value: int) -> int:
    if not _MIN_BE_YEAR <= value <= _MAX_BE_YEAR:
        hint = ""
        if 1800 <= value < _MIN_BE_YEAR:
            hint = f" ({value} looks like a CE year; in BE it is {ce_to_be_year(value)})"
        raise ThaiValueError(
            f"BE year must be between {_MIN_BE_YEAR} and {_MAX_BE_YEAR}, got {value}{hint}",
            field="BE year",
            rule="range",
        )
    return value


def _digits_before(value: Any) -> Any:
    return normalize_digits(value) if isinstance(value, str) else value


def _id_text(value: Any) -> Any:
    # Spreadsheets and legacy databases hand IDs over as numbers; the core str
    # validator would refuse an int, so turn it into text and let the rule check it.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _digits_before(value)


def _juristic_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).zfill(13)
    return _digits_before(value)


def _date_before(value: Any) -> Any:
    # datetime is a date subclass; keep only the date so a timestamp is not mistaken
    # for a day with a time of midnight.
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, str):
        return parse_date(value)
    return value


CitizenId = Annotated[
    str,
    BeforeValidator(_id_text),
    AfterValidator(validate_citizen_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9]{13}$",
            "title": "Citizen ID",
            "description": "Thai citizen ID, 13 digits with a valid check digit",
        }
    ),
]
"""13-digit Thai citizen ID; input may have hyphens or Thai digits, output is compact."""

JuristicId = Annotated[
    str,
    BeforeValidator(_juristic_text),
    AfterValidator(validate_juristic_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^0[0-9]{12}$",
            "title": "Juristic ID",
            "description": "Thai juristic-person ID, 13 digits starting with 0 with a valid check digit",
        }
    ),
]
"""13-digit juristic-person ID starting with 0."""

BEYear = Annotated[
    int,
    BeforeValidator(_digits_before),
    AfterValidator(_check_be_year),
    WithJsonSchema({"type": "integer", "minimum": _MIN_BE_YEAR, "maximum": _MAX_BE_YEAR, "title": "BE year"}),
]
"""A year in the Buddhist Era (2400–2800); a CE-looking year is refused with a hint."""

FiscalYearBE = Annotated[
    int,
    BeforeValidator(_digits_before),
    AfterValidator(_check_be_year),
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": _MIN_BE_YEAR,
            "maximum": _MAX_BE_YEAR,
            "title": "Fiscal year (BE)",
            "description": "Thai government fiscal year, 1 October - 30 September, labelled in BE",
        }
    ),
]
"""A fiscal year labelled in BE, e.g. 2568 for 1 Oct 2024 – 30 Sep 2025."""

ThaiDate = Annotated[
    _dt.date,
    BeforeValidator(_date_before),
    WithJsonSchema({"type": "string", "format": "date", "title": "Date (CE, YYYY-MM-DD)"}),
]
"""A date given in BE or CE (string) or as a ``date``; always stored as a CE ``date``."""

ProvinceCode = Annotated[
    str,
    BeforeValidator(_digits_before),
    AfterValidator(validate_province_code),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{2}$", "title": "Province code"}),
]
DistrictCode = Annotated[
    str,
    BeforeValidator(_digits_before),
    AfterValidator(validate_district_code),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{4}$", "title": "District code"}),
]
SubdistrictCode = Annotated[
    str,
    BeforeValidator(_digits_before),
    AfterValidator(validate_subdistrict_code),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{6}$", "title": "Subdistrict code"}),
]
