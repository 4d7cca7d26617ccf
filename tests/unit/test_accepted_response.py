"""The accept's 202 is built by hand (``AcceptedResponse``): it must be what the general
JSON response made of the same content and headers, byte for byte."""
import pytest

from hub.api.responses import AcceptedResponse, FastJSONResponse


@pytest.mark.parametrize("replayed", [False, True])
def test_accepted_response_is_the_json_response_it_replaces(replayed):
    content = {"id": "6f1c1f64-3b1e-4a55-9a3e-1f0b8c2d7e10", "status": "accepted",
               "links": {"self": "/v1/messages/6f1c1f64-3b1e-4a55-9a3e-1f0b8c2d7e10"}}
    location = "/v1/messages/6f1c1f64-3b1e-4a55-9a3e-1f0b8c2d7e10"
    headers = {"Location": location} | ({"Idempotent-Replayed": "true"} if replayed else {})
    general = FastJSONResponse(content, status_code=202, headers=headers)
    built = AcceptedResponse(content, location, replayed=replayed)
    assert (built.status_code, built.body, built.raw_headers, built.background) == \
        (general.status_code, general.body, general.raw_headers, general.background)
