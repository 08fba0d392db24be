"""The background jobs' shared state (server/jobs.py): the ticket and rate-limit store (Redis, or
a disk cache when there is no Redis), the errors that mean "the store is unreachable", and the
manifest of the views jobs added (`<cache>/atlas/views.json`, written atomically under a file lock,
read by every web process)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import uuid
from pathlib import Path

from ..errors import LatentdashError
from ..fileio import atomic_write

log = logging.getLogger(__name__)

MANIFEST = "views.json"  # in <cache>/atlas/: the views background jobs added
TICKET_TTL_S = 900  # an unused job request expires after this long
RATE_WINDOW_S = 3600  # jobs_per_hour counts the starts of the last hour


def redact(url: str) -> str:
    """A Redis URL without its password (for messages)."""
    return re.sub(r"//[^@/]*@", "//", str(url))


def _unreachable(url: str, e: BaseException) -> LatentdashError:
    return LatentdashError(
        f"Redis at {redact(url)} is not reachable ({type(e).__name__}); background jobs are unavailable "
        "until it is back: start redis-server, or ask whoever runs this server"
    )


def _store_errors():
    """The exceptions a broken connection to Redis raises (redis-py, kombu, sockets)."""
    import sqlite3  # diskcache: a full or broken disk under the job store

    errs: list[type] = [OSError, ConnectionError, TimeoutError, sqlite3.Error]
    with contextlib.suppress(ImportError):
        import redis

        errs.append(redis.exceptions.RedisError)
    with contextlib.suppress(ImportError):
        import kombu.exceptions

        errs.append(kombu.exceptions.OperationalError)
    return tuple(errs)


STORE_ERRORS = _store_errors()


# ----------------------------------------------------------------------------- shared stores
class RedisStore:
    """Tickets and rate-limit counters in Redis (shared by every web process and worker)."""

    def __init__(self, url: str):
        import redis

        self.url = url
        self.r = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)

    def put_ticket(self, spec: dict) -> str:
        tid = uuid.uuid4().hex
        self._do(lambda: self.r.set(f"latentdash:ticket:{tid}", json.dumps(spec), ex=TICKET_TTL_S))
        return tid

    def take_ticket(self, tid: str) -> dict | None:
        raw = self._do(lambda: self.r.getdel(f"latentdash:ticket:{tid}"))
        return json.loads(raw) if raw else None

    def allow(self, client: str, limit: int, now: float) -> float:
        """0 when `client` may start one more job now (and counts it), else seconds to wait."""
        key, member = f"latentdash:rate:{client}", f"{now:.6f}:{uuid.uuid4().hex[:6]}"

        def run():
            p = self.r.pipeline()
            p.zremrangebyscore(key, 0, now - RATE_WINDOW_S)
            p.zadd(key, {member: now})
            p.zrange(key, 0, 0, withscores=True)
            p.zcard(key)
            p.expire(key, RATE_WINDOW_S)
            _, _, oldest, count, _ = p.execute()
            if count > limit:
                self.r.zrem(key, member)
                return max(1.0, oldest[0][1] + RATE_WINDOW_S - now)
            return 0.0

        return self._do(run)

    def _do(self, fn):
        try:
            return fn()
        except STORE_ERRORS as e:
            raise _unreachable(self.url, e) from e


class DiskStore:
    """The same on the DiskcacheManager's cache (one machine: every process sharing the folder)."""

    def __init__(self, cache):
        self.cache = cache

    def put_ticket(self, spec: dict) -> str:
        tid = uuid.uuid4().hex
        self._do(lambda: self.cache.set(f"latentdash:ticket:{tid}", spec, expire=TICKET_TTL_S))
        return tid

    def take_ticket(self, tid: str) -> dict | None:
        return self._do(lambda: self.cache.pop(f"latentdash:ticket:{tid}", default=None))

    def allow(self, client: str, limit: int, now: float) -> float:
        key = f"latentdash:rate:{client}"

        def run():
            with self.cache.transact():
                starts = [t for t in self.cache.get(key, default=[]) if t > now - RATE_WINDOW_S]
                if len(starts) >= limit:
                    return max(1.0, min(starts) + RATE_WINDOW_S - now)
                self.cache.set(key, [*starts, now], expire=RATE_WINDOW_S)
            return 0.0

        return self._do(run)

    def _do(self, fn):
        try:
            return fn()
        except STORE_ERRORS as e:
            raise LatentdashError(
                f"the job store in {self.cache.directory} can't be used ({e}); free space on that disk "
                "or pass another --cache-dir"
            ) from e


# ----------------------------------------------------------------------------- the manifest
def manifest_path(cache_dir) -> Path:
    from ..atlas.store import atlas_dir

    return atlas_dir(cache_dir) / MANIFEST


def read_manifest(cache_dir) -> list[dict]:
    path = manifest_path(cache_dir)
    try:
        data = json.loads(path.read_text())
        entries = data.get("views", []) if isinstance(data, dict) else []
        return [e for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)]
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as e:
        log.warning("%s is unreadable (%s); no job results are offered until a job rewrites it", path, e)
        return []


def add_to_manifest(cache_dir, entry: dict) -> None:
    """Add (or replace, by name) one entry; atomic (temp file + rename) under an exclusive lock."""
    from ..atlas.store import _os_error

    path = manifest_path(cache_dir)
    try:
        with _locked(path):
            entries = [e for e in read_manifest(cache_dir) if e["name"] != entry["name"]] + [entry]
            body = json.dumps({"format": "latentdash-views", "version": 1, "views": entries}, indent=1).encode()
            atomic_write(path, lambda f: f.write(body))
    except OSError as e:
        raise _os_error(path.parent, e) from e


@contextlib.contextmanager
def _locked(path: Path):
    try:
        import fcntl
    except ImportError:  # Windows: one web process, no lock needed
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- managers
