"""The public API: a small, explicit ``__all__`` that is complete and importable."""

from __future__ import annotations

import importlib.metadata
import inspect

import notorious_screen as ns


def test_all_is_sorted_unique_and_importable() -> None:
    names = [n for n in ns.__all__ if n != "__version__"]
    assert len(set(ns.__all__)) == len(ns.__all__)
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in ns.__all__:
        assert hasattr(ns, name), name


def test_every_public_class_and_function_imported_at_top_is_exported() -> None:
    public = {
        name
        for name, value in vars(ns).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("notorious_screen")
    }
    assert public <= set(ns.__all__), public - set(ns.__all__)


def test_version_matches_metadata() -> None:
    try:
        assert ns.__version__ == importlib.metadata.version("notorious-screen")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        assert ns.__version__.count(".") == 2


def test_exceptions_share_one_root() -> None:
    for exc in (ns.DataError, ns.RulePackError, ns.InputError):
        assert issubclass(exc, ns.NotoriousScreenError)
