"""One writer at a time per store: an OS file lock (embedded Chroma) or a lease record
in the server (``--chroma-url``).

Readers never take either. ``Store.writing()`` is the one way in; this module only knows
how to hold the lock, not what is written under it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rag.core.store import StoreError

LOCK_FILE = "writer.lock"  # in the store folder: the embedded writer lock
OPEN_LOCK_FILE = "open.lock"  # in the store folder: held while a writer creates the store
RENEW_FRACTION = 1 / 3  # renew after a third of the lease: two renewals may fail first
# A waiting contender re-reads the lease this often: one small get per second.
POLL_SECONDS = 1.0
# After adding its lease record a contender waits this long before reading it back, so
# a rival's write that crossed its own has landed (see LeaseLock).
SETTLE_SECONDS = 0.5


class WriterBusy(StoreError):
    """Another writer holds the store and the caller asked not to wait."""

    def __init__(self, store: str, holder: Holder) -> None:
        super().__init__(
            f"the store at {store} is being written by {holder.describe()}; "
            "try again when it is done (or wait for it: drop --no-wait)"
        )
        self.holder = holder


class WriterLost(StoreError):
    """This writer's lease expired or was taken over: it must stop writing."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the writer lock, for the waiting message."""

    pid: int | None = None
    host: str = ""
    since: str = ""

    @classmethod
    def me(cls) -> Holder:
        return cls(os.getpid(), socket.gethostname(), datetime.now().isoformat("T", "seconds"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Holder:
        pid = data.get("pid")
        return cls(
            pid=int(pid) if isinstance(pid, int | str) and str(pid).isdigit() else None,
            host=str(data.get("host") or ""),
            since=str(data.get("since") or ""),
        )

    def as_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "since": self.since}

    def describe(self) -> str:
        if self.pid is None:
            return "another process"
        where = f" on {self.host}" if self.host and self.host != socket.gethostname() else ""
        since = f" since {self.since}" if self.since else ""
        return f"pid {self.pid}{where}{since}"


OnWait = Callable[[Holder], None]


class FileLock:
    """An exclusive ``flock`` on ``<store>/writer.lock``.

    The OS drops the lock when its holder exits, however it exits (kill -9 included),
    so there is never a stale lock to detect. Each acquisition opens its own file
    description, so two threads of one process exclude each other too. The file holds
    the holder's pid, host and start time (for the waiting message) and a session id:
    a new holder learns whether anyone else held the lock since its own last turn.
    Not for network file systems whose ``flock`` is not shared between machines.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.session = ""
        self._fd: int | None = None

    def acquire(self, *, wait: bool = True, on_wait: OnWait | None = None) -> str:
        """Take the lock; returns the session id of the previous holder ("" if none)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = Holder.from_dict(_read_json(fd))
                if not wait:
                    raise WriterBusy(str(self.folder.resolve()), holder) from None
                if on_wait is not None:
                    on_wait(holder)
                fcntl.flock(fd, fcntl.LOCK_EX)
            previous = str(_read_json(fd).get("session") or "")
            self.session = uuid.uuid4().hex
            record = {**Holder.me().as_dict(), "session": self.session}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
        except BaseException:
            os.close(fd)  # closing drops the flock, if it was taken
            raise
        self._fd = fd
        return previous

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the session id stays in the file for the next holder
            self._fd = None

    def check(self) -> None:
        """An flock cannot be lost while its file is open."""


@contextmanager
def creating(folder: Path) -> Iterator[None]:
    """Held while a writer opens (and perhaps creates) an embedded store, so two first
    ingests never create Chroma's files at the same time. Held for well under a second."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / OPEN_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_json(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:  # a holder between truncate and write
        return {}
    return data if isinstance(data, dict) else {}


class LeaseLock:
    """A writer lease kept as records ``lease:<n>`` in the store's ``<name>-docs``
    collection of a Chroma server.

    Chroma has no compare-and-swap, but ``add`` of an id that already exists is
    ignored, on the server's one ordered log: of several contenders adding the same
    ``lease:<n>``, the first applied wins and every contender reads that one back. So:

    - the lease in force is the record with the highest ``n``; it is free when absent
      or expired (``expires`` and "now" are both the server's clock, from its
      heartbeat, so the machines' clocks do not matter);
    - a contender adds ``lease:<n+1>`` with a fresh owner id, waits ``SETTLE_SECONDS``,
      reads it back and holds the lease only if the owner is its own and no higher
      record exists; else it tries again (a record it wrote that lost is deleted);
    - the holder renews every third of the lease, checking on the way that the record
      is still its own and still the highest; it stops believing it holds the lease as
      soon as a renewal is overdue, before the server could call it expired.

    Guaranteed: two contenders never both hold the same ``n``, and a new ``n`` is only
    taken once the previous one expired, so two live writers whose renewals keep
    succeeding never overlap; a crashed writer's lease is taken over after at most
    ``ttl`` seconds. Not guaranteed: a holder paused (or cut off from the server) for
    longer than the lease is detected only at its next check, so a Chroma call already
    in flight may land after a new holder started; keep the lease long against one call.
    Should a Chroma version ever apply a repeated ``add`` as an overwrite, the settle
    step and the read-back still keep the last writer alone unless a rival's read and
    write are further apart than ``SETTLE_SECONDS``.
    """

    def __init__(
        self,
        collection: Any,
        clock: Callable[[], float],
        vector: Callable[[str], list[float]],
        *,
        where: str,
        ttl: float,
    ) -> None:
        self.collection = collection
        self.clock = clock  # the server's time, in seconds
        self.vector = vector
        self.where = where
        self.ttl = ttl  # Settings.lease_seconds
        self.session = ""
        self._n = 0
        self._valid_until = 0.0  # time.monotonic() after which we may have lost it
        self._lost = False
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self, *, wait: bool = True, on_wait: OnWait | None = None) -> str:
        told = False
        while True:
            leases = self._leases()
            top = leases[-1] if leases else None
            started = time.monotonic()
            now = self.clock()
            if top is not None and float(top.get("expires", 0)) > now:
                holder = Holder.from_dict(top)
                if not wait:
                    raise WriterBusy(self.where, holder)
                if on_wait is not None and not told:
                    on_wait(holder)
                    told = True
                time.sleep(POLL_SECONDS)
                continue
            n = int(top["n"]) + 1 if top is not None else 1
            owner = uuid.uuid4().hex
            meta = {**Holder.me().as_dict(), "kind": "lease", "n": n, "owner": owner}
            self.collection.add(  # ignored if lease:<n> exists: the first add wins
                ids=[_lease_id(n)],
                embeddings=[self.vector(_lease_id(n))],
                metadatas=[{**meta, "expires": now + self.ttl}],
            )
            time.sleep(SETTLE_SECONDS)
            mine = self._owner(n) == owner
            if mine and self._top_n() == n:
                self.session, self._n, self._lost = owner, n, False
                self._valid_until = started + self.ttl
                self._forget_older(n)
                self._stop.clear()
                self._renewer = threading.Thread(
                    target=self._renew_loop, name="rag-lease", daemon=True
                )
                self._renewer.start()
                return str(top.get("owner", "")) if top is not None else ""
            if mine:  # ours, but a newer lease exists: a stale attempt, remove it
                self.collection.delete(ids=[_lease_id(n)])

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if self._n and not self._lost and self._owner(self._n) == self.session:
            self._write(expires=0.0)  # expired at once: the next writer need not wait
        self._n = 0

    def check(self) -> None:
        """Raise WriterLost unless the lease is certainly still ours."""
        if self._lost or time.monotonic() > self._valid_until:
            self._lost = True
            raise WriterLost(
                f"lost the writer lease on {self.where} (not renewed in time, or taken "
                "over); stopped before writing more. Rerun the ingest to finish."
            )

    # Internals -----------------------------------------------------------------------
    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl * RENEW_FRACTION):
            started = time.monotonic()
            try:
                if self._owner(self._n) != self.session or self._top_n() != self._n:
                    self._lost = True
                    return
                self._write(expires=self.clock() + self.ttl)
            except Exception:  # noqa: BLE001  (a failed renewal is retried; check() times out)
                continue
            self._valid_until = started + self.ttl

    def _write(self, *, expires: float) -> None:
        meta = {
            **Holder.me().as_dict(),
            "kind": "lease",
            "n": self._n,
            "owner": self.session,
            "expires": expires,
        }
        self.collection.upsert(  # only the owner ever writes an existing lease record
            ids=[_lease_id(self._n)],
            embeddings=[self.vector(_lease_id(self._n))],
            metadatas=[meta],
        )

    def _leases(self) -> list[dict[str, Any]]:
        got = self.collection.get(where={"kind": "lease"}, include=["metadatas"])
        return sorted((m for m in got["metadatas"] if m), key=lambda m: int(m.get("n", 0)))

    def _top_n(self) -> int:
        leases = self._leases()
        return int(leases[-1]["n"]) if leases else 0

    def _owner(self, n: int) -> str:
        got = self.collection.get(ids=[_lease_id(n)], include=["metadatas"])
        metas = got["metadatas"] or []
        return str(metas[0].get("owner", "")) if metas and metas[0] else ""

    def _forget_older(self, n: int) -> None:
        older = [_lease_id(int(m["n"])) for m in self._leases() if int(m["n"]) < n]
        if older:
            self.collection.delete(ids=older)


def _lease_id(n: int) -> str:
    return f"lease:{n:012d}"


def print_waiting(what: str) -> OnWait:
    """An ``on_wait`` callback that tells the user on stderr who they are waiting for."""

    def tell(holder: Holder) -> None:
        print(
            f"{what}: waiting for the writer lock held by {holder.describe()} "
            "(--no-wait to fail instead)",
            file=sys.stderr,
            flush=True,
        )

    return tell
