"""The ``session=`` keyword of the public functions, kept below every module that uses it (it
imports nothing of structkit, so no module needs ``structkit.session`` to get it)."""

from __future__ import annotations

__all__ = ["accepts_session"]


def accepts_session(fn):
    """Give a public function that takes ``fetcher=`` the keyword ``session=`` too (the same
    object; naming both with different objects is an error). ``fetcher=`` from outside
    structkit (a user's code) warns with a ``DeprecationWarning``: it is kept for one release
    (issue 26); structkit's own modules still pass it between themselves."""
    import functools
    import inspect
    import sys

    @functools.wraps(fn)
    def wrapper(*args, session=None, **kw):
        if session is not None:
            if kw.get("fetcher") is not None and kw["fetcher"] is not session:
                raise TypeError(f"{fn.__name__}(): give session= or fetcher= (its older name), not both")
            kw["fetcher"] = session
        elif kw.get("fetcher") is not None and not _ours(sys._getframe(1).f_globals):
            import warnings

            warnings.warn(f"{fn.__name__}(fetcher=...) is the older name of session=...; "
                          "fetcher= goes in the next release", DeprecationWarning, stacklevel=2)
        return fn(*args, **kw)

    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    extra = inspect.Parameter("session", inspect.Parameter.KEYWORD_ONLY, default=None)
    at = next((i for i, p in enumerate(params) if p.kind == p.VAR_KEYWORD), len(params))
    wrapper.__signature__ = sig.replace(parameters=params[:at] + [extra] + params[at:])
    return wrapper


def _ours(caller_globals: dict) -> bool:
    """Whether a call comes from structkit's own code (also ``python -m structkit.cli``, whose
    module is named ``__main__``)."""
    spec = caller_globals.get("__spec__")
    name = spec.name if spec is not None else caller_globals.get("__name__", "")
    return name == "structkit" or name.startswith("structkit.")
