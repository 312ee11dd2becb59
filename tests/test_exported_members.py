"""The public surface: one sorted ``__all__``, every name defined in a private module."""

from __future__ import annotations

import pytest

import smsflow

PUBLIC = [name for name in smsflow.__all__ if not name.startswith("__")]


def test_all_is_sorted_and_unique() -> None:
    """__all__ has no duplicates and is in sorted order."""
    assert sorted(set(smsflow.__all__)) == smsflow.__all__


@pytest.mark.parametrize("name", smsflow.__all__)
def test_every_exported_name_exists(name: str) -> None:
    """Each name in __all__ is importable from the package root."""
    assert hasattr(smsflow, name)


@pytest.mark.parametrize("name", PUBLIC)
def test_exported_members_live_in_private_modules(name: str) -> None:
    """Public names are defined in smsflow._<module> and only re-exported (the httpx pattern),
    or are the generated package's own models and types (re-exported, never copied)."""
    value = getattr(smsflow, name)
    module = getattr(value, "__module__", type(value).__module__)
    assert module.startswith(("smsflow._", "smsflow_api.")), f"{name} is defined in {module}"


def test_vendor_surface_is_exported() -> None:
    """Everything smsflow 0.2.0 exported is still in __all__."""
    vendor = {
        "SmsFlowClient",
        "SmsFlowError",
        "SmsFlowAuthenticationError",
        "SmsFlowValidationError",
        "SmsFlowServerError",
        "SmsFlowNetworkError",
    }
    assert set() == vendor - set(smsflow.__all__)


def test_no_public_name_left_out() -> None:
    """Every public class or function of the package root is listed in __all__."""
    public = {
        name
        for name, value in vars(smsflow).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("smsflow.")
        and not isinstance(value, type(smsflow))
    }
    assert set() == public - set(smsflow.__all__)


def test_version() -> None:
    """__version__ is a string and matches the installed distribution."""
    from importlib.metadata import version

    assert version("smsflow") == smsflow.__version__
