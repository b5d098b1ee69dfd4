"""Request checks in front of the Gradio app: allowed Host names, same-origin calls, and
a per-client backoff on failed logins.

The guard wraps Gradio's whole middleware stack, so a refused request never reaches
Gradio's CORS handling (which would echo any Origin back on a preflight).
"""

from __future__ import annotations

import logging
import math
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})

# Failed logins: a few typos cost nothing, then each further failure doubles the wait.
FREE_LOGIN_FAILURES = 5  # a user mistyping a password rarely needs more tries than this
LOGIN_BACKOFF_FIRST = 1.0  # seconds of wait after the first failure past the free ones
# The longest wait: after it, a guesser gets at most 288 tries a day, while a user who
# locked themselves out waits five minutes at worst.
LOGIN_BACKOFF_MAX = 300.0
LOGIN_FORGET_AFTER = 3600.0  # seconds without a failure before a client starts afresh
MAX_TRACKED_CLIENTS = 10_000  # bounds memory when many addresses fail; oldest dropped
LOGIN_PATHS = ("/login", "/login/")  # Gradio's password form posts here


def host_name(value: str | None) -> str | None:
    """The host of a Host header or an Origin's netloc, lower-case, without port or
    brackets; None when it is missing or malformed."""
    if not value:
        return None
    try:
        name = urlsplit(f"//{value.strip()}").hostname
    except ValueError:
        return None
    return name.rstrip(".") if name else None


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names the app answers: the loopback names for a loopback bind, the bound name
    for any other bind (this machine's names and addresses for a wildcard bind), plus
    ``extra`` (RAG_ALLOWED_HOSTS)."""
    from ui.serve import is_loopback

    bind = bind.strip().strip("[]").lower()
    names: set[str] = {name.lower() for name in extra}
    if is_loopback(bind):
        names |= LOOPBACK_HOSTS
    elif bind in WILDCARD_BINDS:
        names |= LOOPBACK_HOSTS | _machine_names()
    else:
        names.add(bind)
    return frozenset(names)


def _machine_names() -> set[str]:
    """This machine's host name, full name and the addresses they resolve to."""
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    for name in list(names):
        try:
            names |= {str(info[4][0]).lower() for info in socket.getaddrinfo(name, None)}
        except OSError:
            continue
    return {name for name in names if name}


@dataclass
class _Client:
    failures: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0
    in_flight: bool = False


@dataclass
class LoginThrottle:
    """Per-client backoff after repeated failed logins. A client is its IP address (behind
    a proxy every user shares one, so they share the backoff too)."""

    clock: Callable[[], float] = time.monotonic
    _clients: OrderedDict[str, _Client] = field(default_factory=OrderedDict)

    def wait(self, client: str) -> float:
        """Seconds the client must still wait before trying again (0: it may try now).
        A client with an attempt still being checked waits too, so parallel guesses do
        not all slip through before the first failure is counted."""
        state = self._clients.get(client)
        if state is None:
            return 0.0
        now = self.clock()
        if state.in_flight:
            return max(state.locked_until - now, LOGIN_BACKOFF_FIRST)
        if now - state.last_failure > LOGIN_FORGET_AFTER:
            del self._clients[client]
            return 0.0
        return max(0.0, state.locked_until - now)

    def started(self, client: str) -> None:
        self._entry(client).in_flight = True

    def finished(self, client: str, ok: bool) -> None:
        """Record the outcome of an attempt (``ok``: the password was right)."""
        state = self._entry(client)
        state.in_flight = False
        if ok:
            del self._clients[client]
            return
        now = self.clock()
        state.failures += 1
        state.last_failure = now
        extra = state.failures - FREE_LOGIN_FAILURES
        delay = 0.0
        if extra > 0:
            delay = min(LOGIN_BACKOFF_MAX, LOGIN_BACKOFF_FIRST * 2 ** (extra - 1))
            state.locked_until = now + delay
        # The password (and the user name, which may be a mistyped password) never
        # reaches the log.
        log.warning(
            "failed login from %s (%d in a row); next attempt allowed in %.0f s",
            client,
            state.failures,
            delay,
        )

    def _entry(self, client: str) -> _Client:
        state = self._clients.get(client)
        if state is None:
            state = self._clients[client] = _Client()
            while len(self._clients) > MAX_TRACKED_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(client)
        return state


class HostGuard:
    """ASGI middleware: refuse a Host that is not allowed (400), a request from another
    origin (403), and a login attempt from a client that must wait (429)."""

    def __init__(
        self,
        app: Any,
        hosts: frozenset[str],
        extra_origins: frozenset[str] = frozenset(),
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.extra_origins = extra_origins  # configured names a proxy may show as Origin
        self.throttle = throttle

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        name = host_name(host)
        if name is None or name not in self.hosts:
            shown = "(none)" if not host else repr(host[:100])
            await _refuse(
                scope,
                send,
                400,
                f"Host {shown} is not allowed here. Add it to RAG_ALLOWED_HOSTS if this "
                "server should answer to it.",
            )
            return
        origin = headers.get("origin")
        if origin is not None and not self._same_origin(origin, host):
            await _refuse(scope, send, 403, "Cross-origin requests are not allowed.")
            return
        if (
            self.throttle is not None
            and scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").endswith(LOGIN_PATHS)
        ):
            await self._login(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _same_origin(self, origin: str, host: str) -> bool:
        """True when ``origin`` is this server as the browser reached it (same host and
        port as the Host header), or a configured name (a proxy's public name)."""
        try:
            parts = urlsplit(origin.strip())
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (sandboxed frames, file: pages) and anything odd
        if parts.netloc.lower() == host.strip().lower():
            return True
        return (parts.hostname or "") in self.extra_origins

    async def _login(self, scope: dict, receive: Any, send: Any) -> None:
        assert self.throttle is not None
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.throttle.wait(client)
        if wait > 0:
            await _refuse(
                scope,
                send,
                429,
                f"Too many failed logins: try again in {math.ceil(wait)} s.",
                {"retry-after": str(math.ceil(wait))},
            )
            return
        status: list[int] = []

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        self.throttle.started(client)
        try:
            await self.app(scope, receive, watch)
        finally:
            # Gradio answers 200 for a right password, 400 for a wrong one.
            code = status[0] if status else 500
            self.throttle.finished(client, ok=200 <= code < 300)


async def _refuse(
    scope: dict, send: Any, status: int, text: str, headers: dict[str, str] | None = None
) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})  # policy violation
        return
    body = text.encode()
    raw = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def guarded_app(hosts: frozenset[str], extra_origins: frozenset[str], auth: bool) -> Any:
    """A Gradio ``App`` whose whole middleware stack sits behind a HostGuard. Passed to
    ``launch(_app=...)``: Gradio adds its own CORS middleware in ``launch`` and Starlette
    puts middleware added later outside earlier ones, so wrapping the built stack is the
    one way to run before Gradio's CORS answers a preflight (gradio 6.31 source)."""
    from gradio.routes import App, ORJSONResponse

    throttle = LoginThrottle() if auth else None

    class GuardedApp(App):
        login_throttle = throttle  # reachable from the launched app (tests set its clock)

        def build_middleware_stack(self):  # type: ignore[no-untyped-def]
            return HostGuard(super().build_middleware_stack(), hosts, extra_origins, throttle)

    return GuardedApp(default_response_class=ORJSONResponse)
