"""Thai conventions: IDs, digits, eras, fiscal years, legacy text, location codes."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel, ValidationError

from hub import thai
from hub.thai import Calendar, ThaiValueError

# Built from the rule, not copied from anywhere: 1-1004-00728-56-?:
# sum(d_i * (14 - i)) = 1*13+1*12+0+0+4*9+0+0+7*6+2*5+8*4+5*3+6*2 = 172; 172 mod 11 = 7;
# (11 - 7) mod 10 = 4.
VALID_CID = "1100400728564"
VALID_JID = "0994000617721"  # python-stdnum's documented MOA example


class TestCitizenId:
    def test_check_digit_matches_the_published_formula(self) -> None:
        first12 = VALID_CID[:12]
        expected = (11 - sum(int(d) * (13 - i) for i, d in enumerate(first12)) % 11) % 10
        assert thai.check_digit(first12) == expected == 4

    @pytest.mark.parametrize(
        "raw",
        [VALID_CID, "1-1004-00728-56-4", " 1 1004 00728 56 4 ", "๑๑๐๐๔๐๐๗๒๘๕๖๔", 1100400728564],
    )
    def test_normalises_display_thai_digit_and_int_forms(self, raw: object) -> None:
        assert thai.validate_citizen_id(raw) == VALID_CID  # type: ignore[arg-type]

    def test_format(self) -> None:
        assert thai.format_citizen_id(VALID_CID) == "1-1004-00728-56-4"

    def test_wrong_check_digit_names_both_digits(self) -> None:
        with pytest.raises(ThaiValueError, match="citizen ID check digit is 5, expected 4") as err:
            thai.validate_citizen_id(VALID_CID[:12] + "5")
        assert err.value.rule == "check_digit"
        assert err.value.field == "citizen ID"

    def test_length(self) -> None:
        with pytest.raises(ThaiValueError, match="13 digits, got 12") as err:
            thai.validate_citizen_id(VALID_CID[:12])
        assert err.value.rule == "length"

    def test_letters_are_refused_with_position(self) -> None:
        with pytest.raises(ThaiValueError, match="'A' at digit position 3") as err:
            thai.validate_citizen_id("11A0400728564")
        assert err.value.rule == "digits"

    def test_juristic_range_is_not_a_citizen(self) -> None:
        with pytest.raises(ThaiValueError, match="cannot start with 0") as err:
            thai.validate_citizen_id(VALID_JID)
        assert err.value.rule == "first_digit"

    def test_is_valid(self) -> None:
        assert thai.is_valid_citizen_id(VALID_CID)
        assert not thai.is_valid_citizen_id("1234567890123")

    def test_non_string_is_a_type_error_not_a_crash(self) -> None:
        with pytest.raises(ThaiValueError) as err:
            thai.validate_citizen_id(None)  # type: ignore[arg-type]
        assert err.value.rule == "type"


class TestJuristicId:
    def test_valid_and_formats(self) -> None:
        assert thai.validate_juristic_id("0-99-4-000-61772-1") == VALID_JID
        assert thai.format_juristic_id(VALID_JID) == "0-99-4-000-61772-1"

    def test_int_keeps_leading_zero(self) -> None:
        assert thai.validate_juristic_id(994000617721) == VALID_JID

    def test_must_start_with_zero(self) -> None:
        with pytest.raises(ThaiValueError, match="always start with 0") as err:
            thai.validate_juristic_id(VALID_CID)
        assert err.value.rule == "first_digit"

    def test_check_digit(self) -> None:
        with pytest.raises(ThaiValueError, match="juristic ID check digit is 2, expected 1"):
            thai.validate_juristic_id(VALID_JID[:12] + "2")
        assert not thai.is_valid_juristic_id(VALID_JID[:12] + "2")
        assert thai.is_valid_juristic_id(VALID_JID)


def test_thai_digits() -> None:
    assert thai.normalize_digits("ปี ๒๕๖๗ เล่ม ๑๒") == "ปี 2567 เล่ม 12"


class TestEras:
    def test_year_conversion(self) -> None:
        assert thai.ce_to_be_year(2024) == 2567
        assert thai.be_to_ce_year(2567) == 2024

    @pytest.mark.parametrize(
        ("year", "calendar"), [(2567, Calendar.BE), (2401, Calendar.BE), (2400, Calendar.CE), (2024, Calendar.CE)]
    )
    def test_heuristic(self, year: int, calendar: Calendar) -> None:
        assert thai.detect_calendar(year) is calendar

    @pytest.mark.parametrize(
        "text",
        ["2567-10-01", "2024-10-01", "01/10/2567", "1/10/2024", "๒๕๖๗-๑๐-๐๑", " 2567-10-1 "],
    )
    def test_parse_date_either_era(self, text: str) -> None:
        assert thai.parse_date(text) == dt.date(2024, 10, 1)

    def test_explicit_calendar_wins_over_heuristic(self) -> None:
        # An explicit BE year below the threshold is the caller's statement, not a guess.
        assert thai.parse_date("2300-01-01", Calendar.BE) == dt.date(1757, 1, 1)
        assert thai.parse_date("2567-10-01", "CE") == dt.date(2567, 10, 1)

    def test_be_leap_day(self) -> None:
        # BE 2567 is CE 2024, a leap year; BE 2566 (CE 2023) is not.
        assert thai.parse_date("29/02/2567") == dt.date(2024, 2, 29)
        with pytest.raises(ThaiValueError, match="BE year 2566 = CE 2023") as err:
            thai.parse_date("2566-02-29")
        assert err.value.rule == "calendar"

    def test_unknown_form(self) -> None:
        with pytest.raises(ThaiValueError, match="expected YYYY-MM-DD or DD/MM/YYYY") as err:
            thai.parse_date("1 ต.ค. 2567")
        assert err.value.rule == "format"

    def test_parse_datetime_dpis_stamp(self) -> None:
        assert thai.parse_datetime("2567-10-01 08:30:05") == dt.datetime(2024, 10, 1, 8, 30, 5)
        assert thai.parse_datetime("2024-10-01T17:45") == dt.datetime(2024, 10, 1, 17, 45)
        with pytest.raises(ThaiValueError, match="impossible time"):
            thai.parse_datetime("2567-10-01 25:00:00")

    def test_format_date(self) -> None:
        assert thai.format_date(dt.date(2024, 10, 1)) == "2567-10-01"
        assert thai.format_date(dt.date(2024, 10, 1), Calendar.CE) == "2024-10-01"


class TestFiscalYear:
    @pytest.mark.parametrize(
        ("day", "fy"),
        [
            (dt.date(2024, 10, 1), 2568),
            (dt.date(2024, 9, 30), 2567),
            (dt.date(2025, 9, 30), 2568),
            (dt.date(2025, 1, 15), 2568),
        ],
    )
    def test_be_label(self, day: dt.date, fy: int) -> None:
        assert thai.fiscal_year(day) == fy

    def test_ce_label(self) -> None:
        assert thai.fiscal_year(dt.date(2024, 10, 1), Calendar.CE) == 2025

    def test_bounds(self) -> None:
        assert thai.fiscal_year_bounds(2568) == (dt.date(2024, 10, 1), dt.date(2025, 9, 30))
        assert thai.fiscal_year_bounds(2025, Calendar.CE) == (dt.date(2024, 10, 1), dt.date(2025, 9, 30))


class TestDecodeLegacy:
    def test_round_trip_thai_text(self) -> None:
        text = "สำนักงาน ก.พ.ร. “ทดสอบ”…"
        assert thai.decode_legacy(text.encode("cp874")) == text

    def test_tis620_bytes_decode_with_cp874(self) -> None:
        assert thai.decode_legacy("กขค".encode("tis-620")) == "กขค"

    def test_undecodable_byte_reports_offset(self) -> None:
        data = "สวัสดี".encode("cp874") + b"\xfc" + b"abc"
        with pytest.raises(thai.LegacyDecodeError, match=r"byte 0xFC at offset 6") as err:
            thai.decode_legacy(data)
        assert err.value.offset == 6
        assert err.value.byte == 0xFC
        assert isinstance(err.value, ValueError)

    def test_refuses_unrelated_encoding(self) -> None:
        with pytest.raises(ThaiValueError, match="not 'latin-1'"):
            thai.decode_legacy(b"abc", "latin-1")

    def test_refuses_str(self) -> None:
        with pytest.raises(ThaiValueError, match="needs bytes"):
            thai.decode_legacy("already text")  # type: ignore[arg-type]


class TestLocationCodes:
    def test_known_codes(self) -> None:
        assert thai.validate_province_code("10") == "10"
        assert thai.validate_district_code("๑๐๐๑") == "1001"
        assert thai.validate_subdistrict_code(500101) == "500101"

    def test_unknown_and_malformed(self) -> None:
        with pytest.raises(ThaiValueError, match="province code 99 does not exist") as err:
            thai.validate_province_code("99")
        assert err.value.rule == "unknown_code"
        with pytest.raises(ThaiValueError, match="exactly 4 digits") as err:
            thai.validate_district_code("101")
        assert err.value.rule == "format"


class Person(BaseModel):
    citizen_id: thai.CitizenId
    employer: thai.JuristicId | None = None
    budget_year: thai.FiscalYearBE
    born: thai.ThaiDate
    province: thai.ProvinceCode | None = None


class TestPydanticTypes:
    def test_normalises(self) -> None:
        p = Person(citizen_id="1-1004-00728-56-4", employer=994000617721, budget_year="๒๕๖๘", born="01/10/2510")
        assert p.citizen_id == VALID_CID
        assert p.employer == VALID_JID
        assert p.budget_year == 2568
        assert p.born == dt.date(1967, 10, 1)
        assert p.model_dump(mode="json")["born"] == "1967-10-01"

    def test_errors_name_the_rule(self) -> None:
        with pytest.raises(ValidationError) as err:
            Person(citizen_id=VALID_CID[:12] + "3", budget_year=2025, born="2510-13-01", province="99")
        messages = {e["loc"][0]: e["msg"] for e in err.value.errors()}
        assert "citizen ID check digit is 3, expected 4" in messages["citizen_id"]
        assert "looks like a CE year; in BE it is 2568" in messages["budget_year"]
        assert "does not exist" in messages["born"]
        assert "province code 99 does not exist" in messages["province"]

    def test_json_schema_publishes_the_pattern(self) -> None:
        schema = Person.model_json_schema()
        assert schema["properties"]["citizen_id"]["pattern"] == "^[0-9]{13}$"
        assert schema["properties"]["budget_year"]["minimum"] == 2400
