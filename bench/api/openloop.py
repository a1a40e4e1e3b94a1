"""A fixed-rate (open-loop) load generator: request i is due at t0 + i/rate, whatever happened
to the ones before, and its latency is counted from when it was due. A closed-loop tool (wrk,
ab) waits for answers before sending more, so a slow server lowers its own load and hides its
queueing ("coordinated omission"); this one does not."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson


@dataclass(frozen=True)
class RateResult:
    rate: float
    seconds: float
    sent: int
    ok: int
    errors: int
    achieved_rate: float
    latency_ms: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": at(0.50), "p90": at(0.90), "p95": at(0.95), "p99": at(0.99),
            "max": round(ordered[-1] * 1000, 2)} if ordered else {}  # fmt: skip


class _Pool:
    """Keep-alive HTTP/1.1 connections over raw asyncio streams: a few microseconds of client CPU
    per request (httpx costs about a millisecond, which on a small machine is the server's)."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def send(self, request: bytes) -> int:
        conn = (
            self._idle.pop()
            if self._idle
            else await asyncio.open_connection(self._host, self._port)
        )
        reader, writer = conn
        writer.write(request)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        self._idle.append(conn)
        return status

    def close(self) -> None:
        for _reader, writer in self._idle:
            writer.close()


def _requests(url: str, headers: dict[str, str], bodies: list[bytes]) -> list[bytes]:
    parsed = urlsplit(url)
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return [
        (
            f"POST {target} HTTP/1.1\r\nHost: {parsed.netloc}\r\n{head}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]


async def _run(
    url: str, headers: dict[str, str], bodies: list[bytes], rate: float, seconds: float
) -> RateResult:
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    parsed = urlsplit(url)
    pool = _Pool(parsed.hostname or "127.0.0.1", parsed.port or 80)
    prepared = _requests(url, headers, bodies)

    async def one(i: int, due: float) -> None:
        nonlocal errors
        try:
            status = await pool.send(prepared[i % len(prepared)])
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            errors += 1
            return
        if status != 200:
            errors += 1
            return
        latencies.append(time.perf_counter() - due)

    start = time.perf_counter()
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    pool.close()
    return RateResult(
        rate=rate,
        seconds=round(elapsed, 2),
        sent=total,
        ok=len(latencies),
        errors=errors,
        achieved_rate=round(len(latencies) / elapsed, 1),
        latency_ms=percentiles(latencies),
    )


def at_rate(
    url: str, headers: dict[str, str], bodies: list[dict[str, Any]], rate: float, seconds: float
) -> RateResult:
    """Send `rate` requests a second for `seconds`; latency percentiles of the answers."""
    encoded = [orjson.dumps(b) for b in bodies]
    return asyncio.run(_run(url, headers, encoded, rate, seconds))
