"""HTTP for the fetchers: one retry loop with backoff and Retry-After, redirects followed only
to allowed hosts (parsed with the HTTP client's own URL parser), size caps on every body, an
overall deadline, and JSON requests (RCSB search). ``HttpTransport`` is the part of ``Fetcher``
that talks to servers; it reads the fetcher's settings (``endpoints``, ``mirror``, ``timeout``,
``retries``, ``backoff``, ``max_retry_after``, ``max_bytes``, ``deadline``,
``max_redirects``). requests and urllib3 load when the network is first used.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlparse

from .._version import __version__
from .integrity import FetchError, IntegrityError, NoSuchEntry

if TYPE_CHECKING:
    import requests

__all__ = ["HttpTransport", "USER_AGENT"]

USER_AGENT = f"structkit/{__version__} (structural bioinformatics toolkit; python-requests)"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class HttpTransport:
    """Talking to servers: the session, retries, redirects, size caps (see the module doc)."""

    @property
    def session(self) -> requests.Session:
        import requests

        if self._session is None:
            s = requests.Session()
            s.headers["User-Agent"] = USER_AGENT
            s.trust_env = False  # no proxies from the environment: we name every host ourselves
            self._session = s
        return self._session

    def _sleep_for(self, attempt: int, resp: requests.Response | None) -> float:
        delay = self.backoff * (2**attempt)
        if resp is not None and resp.headers.get("Retry-After"):
            try:
                delay = max(delay, float(resp.headers["Retry-After"]))
            except ValueError:
                pass
        return delay  # the caller keeps all waits of a request within max_retry_after

    def _fetch_bytes(self, url: str, what: str, check: Callable[[bytes, str], None]) -> bytes:
        """GET ``url`` with retries; return a body that passed ``check``."""
        import requests
        import urllib3

        last = ""
        waited = 0.0  # all back-off sleeps of this request together stay within max_retry_after
        for attempt in range(self.retries + 1):
            resp = None
            end = time.monotonic() + self.deadline  # one deadline: connect, headers and body
            try:
                resp = self._get_following(url, what, end)
                if resp.status_code == 404:
                    raise NoSuchEntry(f"no such entry: {what} (404 from {url})")
                if resp.status_code == 429 or resp.status_code >= 500:
                    last = f"HTTP {resp.status_code} from {url}"
                    resp.close()
                    if attempt < self.retries:
                        delay = self._sleep_for(attempt, resp)
                        if waited + delay > self.max_retry_after:
                            last += (f" (the server asks to wait {delay:g} s more; waited "
                                     f"{waited:g} s of at most {self.max_retry_after:g} s)")
                            break
                        if delay >= 2:
                            print(f"structkit: {what}: {last}; retrying in {delay:g} s "
                                  f"({attempt + 1}/{self.retries})", file=sys.stderr)
                        time.sleep(delay)
                        waited += delay
                    continue
                if resp.status_code != 200:
                    raise FetchError(f"{what}: HTTP {resp.status_code} from {url}")
                data = self._read_limited(resp, resp.url or url, what, end)
                check(data, url)
                return data
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError,
                    _Truncated) as exc:
                timed_out = isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError))
                kind = "timed out" if timed_out else "failed"
                last = f"request {kind}: {url} ({type(exc).__name__}: {exc})"
                if attempt < self.retries:
                    delay = self._sleep_for(attempt, None)
                    print(f"structkit: {what}: request {kind}; retrying in {delay:g} s "
                          f"({attempt + 1}/{self.retries})", file=sys.stderr)
                    time.sleep(delay)
            finally:
                if resp is not None:
                    resp.close()
        raise FetchError(f"{what}: gave up after {self.retries + 1} attempts; last: {last}")

    def _allowed_hosts(self, url: str) -> set[tuple]:
        """(host, port) of the services, the mirror and ``url``, as the HTTP client reads them."""
        urls = [getattr(self.endpoints, f.name) for f in fields(self.endpoints)] + [url]
        if self._mirror_is_url():
            urls.append(str(self.mirror))
        out = set()
        for u in urls:
            try:
                out.add(_host_port(u))
            except ValueError:
                continue
        return out

    def _get_within(self, url: str, end: float) -> requests.Response:
        """``session.get`` whose answer headers must arrive before ``end`` (monotonic time):
        the per-read timeout alone lets a server that drips its headers byte by byte hold a
        request forever. The request runs in a helper thread; past ``end`` it is abandoned
        (its response closed when it comes) and this raises ``requests.Timeout``."""
        import requests

        box: dict = {}
        abandoned = threading.Event()

        def run() -> None:
            try:
                r = self.session.get(url, timeout=self.timeout, stream=True, allow_redirects=False)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box["exc"] = exc
                return
            if abandoned.is_set():
                r.close()
            else:
                box["resp"] = r

        t = threading.Thread(target=run, name="structkit-get", daemon=True)
        t.start()
        t.join(max(0.0, end - time.monotonic()))
        if t.is_alive():
            abandoned.set()
            raise requests.Timeout(f"no complete answer from {url} within the {self.deadline:g} s "
                                   "deadline")
        if "exc" in box:
            raise box["exc"]
        if abandoned.is_set() or "resp" not in box:  # pragma: no cover - a race at the deadline
            raise requests.Timeout(f"no answer from {url} within the {self.deadline:g} s deadline")
        return box["resp"]

    def _get_following(self, url: str, what: str, end: float | None = None) -> requests.Response:
        """GET with redirects followed by hand: each target must be https (http only for
        loopback) on an allowed host; at most ``max_redirects``; a loop is an error."""
        allowed = self._allowed_hosts(url)
        seen = {url}
        current = url
        for _ in range(self.max_redirects + 1):
            resp = self._get_within(current, end if end is not None
                                    else time.monotonic() + self.deadline)
            if resp.status_code not in (301, 302, 303, 307, 308):
                return resp
            loc = resp.headers.get("Location", "")
            resp.close()
            target = urljoin(current, loc)
            try:
                _check_url_scheme(target)
            except ValueError:
                raise FetchError(f"{what}: {current} redirects to {target!r}, which is not https "
                                 "(refused)") from None
            try:
                where = _host_port(target)
            except ValueError as exc:
                raise FetchError(f"{what}: {current} redirects to {target!r}: {exc} (refused)") from None
            if where not in allowed:
                raise FetchError(f"{what}: {current} redirects to another host "
                                 f"({where[0]}:{where[1]}); refused")
            if target in seen:
                raise FetchError(f"{what}: redirect loop at {target}")
            seen.add(target)
            current = target
        raise FetchError(f"{what}: more than {self.max_redirects} redirects from {url}")

    def _read_limited(self, resp: requests.Response, url: str, what: str,
                      end: float | None = None) -> bytes:
        """The body, decoded from any Content-Encoding as a stream, capped at ``max_bytes``
        decoded bytes and at ``deadline`` seconds overall."""
        import urllib3

        declared = resp.headers.get("Content-Length")
        encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"{what}: {url} is {declared} bytes, over the limit of {self.max_bytes}")
        # read what has arrived (read1), so that a server dripping bytes, each within the read
        # timeout, meets the overall deadline between reads
        end = time.monotonic() + self.deadline if end is None else end
        raw = resp.raw
        read = getattr(raw, "read1", None) or raw.read
        chunks, total = [], 0
        try:
            while True:
                chunk = read(65536, decode_content=True)
                if not chunk:
                    break
                total += len(chunk)
                if total > self.max_bytes:
                    raise FetchError(f"{what}: {url} exceeds the size limit of {self.max_bytes} bytes")
                chunks.append(chunk)
                if time.monotonic() > end:
                    raise FetchError(f"{what}: {url} took longer than {self.deadline:g} s "
                                     f"({total} bytes so far); gave up")
        except urllib3.exceptions.DecodeError as exc:
            raise IntegrityError(f"{what}: {url}: bad Content-Encoding ({exc})") from None
        data = b"".join(chunks)
        if not encoded and declared and declared.isdigit() and len(data) != int(declared):
            raise _Truncated(f"got {len(data)} of {declared} bytes")
        return data

    def _request_json(self, method: str, url: str, what: str, payload: dict) -> dict | None:
        import requests

        last = ""
        for attempt in range(self.retries + 1):
            try:
                resp = self.session.request(method, url, json=payload, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"{type(exc).__name__}: {exc}"
                if attempt < self.retries:
                    time.sleep(self._sleep_for(attempt, None))
                continue
            if resp.status_code == 204:
                return None
            if resp.status_code == 429 or resp.status_code >= 500:
                last = f"HTTP {resp.status_code}"
                if attempt < self.retries:
                    time.sleep(min(self._sleep_for(attempt, resp), self.max_retry_after))
                continue
            if resp.status_code != 200:
                raise FetchError(f"{what}: HTTP {resp.status_code} from {url}")
            try:
                return resp.json()
            except ValueError as exc:
                raise IntegrityError(f"{what}: {url} did not return JSON") from exc
        raise FetchError(f"{what}: gave up after {self.retries + 1} attempts; last: {last}")


class _Truncated(Exception):
    pass


def _is_loopback(host: str | None) -> bool:
    """localhost, ::1 or any 127.0.0.0/8 address."""
    if host in _LOOPBACK:
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


# name -> (SHA-256, path below Endpoints.models, ((installed distribution, file in it), ...))
def _check_url_scheme(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme == "https":
        return
    if parsed.scheme == "http" and _is_loopback(parsed.hostname):
        return  # local test servers and local mirrors only
    raise ValueError(f"URL {url!r}: only https:// is allowed (http:// only for 127.0.0.1/localhost)")


def _host_port(url: str) -> tuple[str, int]:
    """(host, port) of ``url`` read with urllib3's parser, the one the HTTP client uses, so the
    check and the request cannot disagree; a URL with user info, a backslash, whitespace or a
    control character is refused (``ValueError``)."""
    from urllib3.util import parse_url

    if any(c in url for c in "\\ \t\r\n") or any(ord(c) < 32 for c in url):
        raise ValueError("a backslash, space or control character in the URL")
    u = parse_url(url)
    if u.auth is not None:
        raise ValueError("user info in the URL")
    if not u.host:
        raise ValueError("no host in the URL")
    port = u.port or {"https": 443, "http": 80}.get((u.scheme or "").lower(), 0)
    return u.host.lower(), int(port)

