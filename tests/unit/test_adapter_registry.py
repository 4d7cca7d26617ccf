import pytest

from hub.adapters.base import Adapter, OutboundMessage, Receipt
from hub.adapters.registry import AdapterRegistry, check_contract
from hub.errors import AdapterContractError, UnknownAdapter, ValidationFailed


def test_unknown_adapter_suggests_the_close_name():
    with pytest.raises(UnknownAdapter, match="did you mean 'http'"):
        AdapterRegistry().get("htpp")


def test_settings_errors_name_the_field():
    with pytest.raises(ValidationFailed) as info:
        AdapterRegistry().build("http", {"url": "not a url"})
    assert info.value.errors[0].field == "/settings/url"


def test_contract_is_checked_at_load_time():
    class NoSend(Adapter):
        scheme = "nosend"

    with pytest.raises(AdapterContractError, match="abstract methods"):
        check_contract("nosend", NoSend)

    class WrongScheme(Adapter):
        scheme = "other"

        def send(self, message: OutboundMessage) -> Receipt:
            return Receipt("ok")

    with pytest.raises(AdapterContractError, match="scheme is 'other'"):
        check_contract("mine", WrongScheme)
    with pytest.raises(AdapterContractError, match="not a subclass"):
        check_contract("x", object)


def test_plugins_by_target_are_loaded_and_checked():
    registry = AdapterRegistry(extra={"broken": "hub.adapters.base:Health"})
    with pytest.raises(AdapterContractError):
        registry.get("broken")
    assert "memory" in registry.names()
