import uuid

import orjson
import pytest
from pydantic import ValidationError

from hub.schemas.envelope import (
    MESSAGE_KEY_NAMESPACE, Envelope, StoredMessage, message_key, outbound_document, party_member,
)

BASE = {"sender": "TH/GOV/0401/saraban", "receiver": "TH/GOV/1501/hr", "service": "telework.order/v1",
        "payload": {"b": 1, "a": "ไทย"}}


def test_defaults_and_canonical_payload_bytes():
    env = Envelope.model_validate(BASE)
    assert env.classification == "001" and env.speed == "001" and env.content_type == "application/json"
    assert env.payload_bytes() == '{"a":"ไทย","b":1}'.encode()


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("sender", "not a party", "sender"),
        ("receiver", "TH/gov/1501", "receiver"),
        ("service", "Telework Order", "service"),
        ("classification", "005", "classification"),
        ("standard", "th.telework.order@1.0", "standard"),
    ],
)
def test_each_bad_field_is_named(field, value, fragment):
    with pytest.raises(ValidationError) as info:
        Envelope.model_validate({**BASE, field: value})
    assert [e["loc"][0] for e in info.value.errors()] == [fragment]


def test_user_id_checksum_is_checked_and_thai_digits_normalised():
    assert Envelope.model_validate({**BASE, "user_id": "1-1017-00203-45-0"}).user_id == "1101700203450"
    assert Envelope.model_validate({**BASE, "user_id": "๑๑๐๑๗๐๐๒๐๓๔๕๐"}).user_id == "1101700203450"
    with pytest.raises(ValidationError) as info:
        Envelope.model_validate({**BASE, "user_id": "1101700203451"})
    assert "check digit" in str(info.value)


def test_xml_payload_must_be_a_string_and_json_payload_a_document():
    with pytest.raises(ValidationError, match="XML payload travels as a string"):
        Envelope.model_validate({**BASE, "content_type": "application/xml", "payload": {"x": 1}})
    with pytest.raises(ValidationError, match="object or an array"):
        Envelope.model_validate({**BASE, "payload": "text"})
    env = Envelope.model_validate({**BASE, "content_type": "application/xml", "payload": "<a>ก</a>"})
    assert env.payload_bytes() == "<a>ก</a>".encode()


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError) as info:
        Envelope.model_validate({**BASE, "recipient": "x"})
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_outbound_document_splices_payload_without_changing_it():
    meta = StoredMessage(
        id="8a1c2d4e-0000-4000-8000-000000000001", sender=BASE["sender"], receiver=BASE["receiver"],
        service=BASE["service"], classification="001", speed="001", content_type="application/xml",
        received_at="2026-11-22T10:00:00+00:00", payload_sha256="0" * 64, payload_size=3, status="queued",
    )
    doc = orjson.loads(outbound_document(meta, "<a/>".encode()))
    assert doc["payload"] == "<a/>" and doc["sender"] == BASE["sender"] and "status" not in doc


def test_party_member():
    assert party_member("TH/GOV/0401/saraban") == "TH/GOV/0401"


@pytest.mark.parametrize(("sender", "message_id"), [
    ("TH/GOV/0401/saraban", "6f1c1f64-3b1e-4a55-9a3e-1f0b8c2d7e10"),
    ("TH/GOV/CGD", "x" * 300),
    ("", ""),
])
def test_message_key_is_the_uuid5_of_sender_and_id(sender, message_id):
    # Stored keys must not change: message_key computes uuid5 itself, so it is checked against it.
    assert message_key(sender, message_id) == str(uuid.uuid5(MESSAGE_KEY_NAMESPACE, f"{sender}\n{message_id}"))


def test_message_key_matches_uuid5_across_many_ids():
    # The version and variant bits are set by hand: every byte value they touch must come out as uuid5's.
    for n in range(2000):
        sender, message_id = f"TH/GOV/{n:04d}/ระบบ", str(uuid.UUID(int=n * 0x9E3779B97F4A7C15 % 2**128))
        assert message_key(sender, message_id) == str(uuid.uuid5(MESSAGE_KEY_NAMESPACE, f"{sender}\n{message_id}"))
