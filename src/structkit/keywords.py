"""The ``session=`` keyword of the public functions, kept below every module that uses it (it
imports nothing of structkit, so no module needs ``structkit.session`` to get it)."""

from __future__ import annotations

__all__ = ["accepts_session"]


def accepts_session(fn):
    """Give a public function that takes ``fetcher=`` the keyword ``session=`` too (the same
    object; naming both with different objects is an error)."""
    import functools
    import inspect

    @functools.wraps(fn)
    def wrapper(*args, session=None, **kw):
        if session is not None:
            if kw.get("fetcher") is not None and kw["fetcher"] is not session:
                raise TypeError(f"{fn.__name__}(): give session= or fetcher= (its older name), not both")
            kw["fetcher"] = session
        return fn(*args, **kw)

    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    extra = inspect.Parameter("session", inspect.Parameter.KEYWORD_ONLY, default=None)
    at = next((i for i, p in enumerate(params) if p.kind == p.VAR_KEYWORD), len(params))
    wrapper.__signature__ = sig.replace(parameters=params[:at] + [extra] + params[at:])
    return wrapper
