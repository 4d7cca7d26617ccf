"""Thai identifiers and location codes as request fields, refused with the rule that failed.

``hub.thai`` raises ``ThaiValueError(field=, rule=)``; pydantic would report every one of
them as a generic ``value_error``. These wrappers turn the rule into the error's type, so a
422 names both the field and the rule (``check_digit``, ``length``, ``unknown_code`` ...).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from hub.errors import FieldError, InputError
from hub.thai import (ThaiValueError, validate_citizen_id, validate_district_code, validate_juristic_id,
                      validate_province_code, validate_subdistrict_code)


def _ruled(check: Callable[[Any], str]) -> Callable[[Any], str]:
    def run(value: Any) -> str:
        try:
            return check(value)
        except ThaiValueError as exc:
            raise PydanticCustomError(exc.rule, str(exc)) from None
    return run


def _digits(pattern: str, title: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, "title": title})


CitizenIdField = Annotated[str, BeforeValidator(_ruled(validate_citizen_id)), _digits("^[0-9]{13}$", "Citizen ID")]
JuristicIdField = Annotated[str, BeforeValidator(_ruled(validate_juristic_id)), _digits("^0[0-9]{12}$", "Juristic ID")]
ProvinceCodeField = Annotated[str, BeforeValidator(_ruled(validate_province_code)), _digits("^[0-9]{2}$", "Province code")]
DistrictCodeField = Annotated[str, BeforeValidator(_ruled(validate_district_code)), _digits("^[0-9]{4}$", "District code")]
SubdistrictCodeField = Annotated[str, BeforeValidator(_ruled(validate_subdistrict_code)),
                                 _digits("^[0-9]{6}$", "Subdistrict code")]


def checked(check: Callable[[str], str], value: str, field: str) -> str:
    """A path or query value checked by a ``hub.thai`` validator; 422 naming ``field`` (its JSON
    Pointer, e.g. ``/path/citizen_id``) and the rule."""
    try:
        return check(value)
    except ThaiValueError as exc:
        raise InputError(f"{field}: {exc}", errors=[FieldError(field, exc.rule, str(exc))]) from None


def citizen_id(value: str, field: str = "/path/citizen_id") -> str:
    return checked(validate_citizen_id, value, field)


def juristic_id(value: str, field: str = "/path/juristic_id") -> str:
    return checked(validate_juristic_id, value, field)
