"""``hub.bench.ecms_raw.Template``: request bytes with per-request values cut out."""
import pytest

from hub.bench.ecms_raw import Template


def test_values_replace_their_markers_and_are_escaped():
    template = Template("<a><id>กค 0401/7</id><m>urn:1</m></a>".encode(), letter_id="กค 0401/7", message_id="urn:1")
    assert template.render(letter_id="กค 0401/8", message_id="urn:<2>") == \
        "<a><id>กค 0401/8</id><m>urn:&lt;2&gt;</m></a>".encode()


@pytest.mark.parametrize("data", [b"<a>x</a><b>x</b>", b"<a>&#3585;</a>"])
def test_a_marker_not_found_exactly_once_is_refused(data):
    with pytest.raises(ValueError, match="not once"):
        Template(data, value="x" if b"x" in data else "ก")
