"""P6: what a local access-token verification costs: a token verified before, one not seen before, and (run as a
script) one ``GET /users/me`` beside them. Same run, same machine.

    python -m benchmarks --only P6                                    # the table rows
    python benchmarks/auth_verify.py [--verifies 5000] [--remote 500]  # the per-call detail, with /users/me

The emulator serves over a loopback socket (uvicorn in a thread); users are signed in on it, then, on one event loop
with the project's JWKS cached:

- ``verify_access_token`` of the same token again and again: what a backend pays on every request of a signed-in
  user after the first (the verified-token cache: a lookup);
- ``verify_access_token`` of tokens never verified before: the ES256 signature and claim checks;
- ``get_user_from_token``: one ``GET /users/me`` round trip, here to a server on the same machine (a real Stack
  server is a network hop away, so the real ratio is larger still).

Both verifications are short enough to run on the event loop (offloading them to a thread would cost more).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from benchmarks.common import Result, Sizes, check
from stack_auth import AsyncStackServerApp
from stack_auth.testing import Emulator

REPEAT_TARGET_US = 10.0


def per_call_us(samples: list[float]) -> str:
    median = statistics.median(samples) * 1e6
    p95 = sorted(samples)[int(len(samples) * 0.95)] * 1e6
    return f"median {median:9.1f} us   p95 {p95:9.1f} us"


async def timed(calls: list[Callable[[], Awaitable[object]]]) -> list[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def measure(verifies: int, remote: int) -> dict[str, list[float]]:
    """Per-call seconds: ``repeat`` (one token, again), ``first`` (each token once), ``remote`` (/users/me)."""
    emu = Emulator(seed=1)
    with emu.serve() as base_url:
        user = emu.create_user(primary_email="bench@example.com", display_name="Bench")
        tokens = [emu.create_session(user["id"], base_url=base_url)["access_token"] for _ in range(verifies + 1)]
        token = tokens.pop()
        async with AsyncStackServerApp(
            project_id=emu.project_id, secret_server_key=emu.secret_server_key, base_url=base_url
        ) as app:
            await app.verify_access_token(token)  # JWKS fetched and cached, this token too
            assert await app.get_user_from_token(token) is not None  # pool warm
            return {
                "repeat": await timed([lambda: app.verify_access_token(token)] * verifies),
                "first": await timed([lambda t=t: app.verify_access_token(t) for t in tokens]),
                "remote": await timed([lambda: app.get_user_from_token(token)] * remote),
            }


def run(sizes: Sizes) -> list[Result]:
    times = asyncio.run(measure(sizes.verify_calls, 0))
    repeat, first = (statistics.median(times[name]) * 1e6 for name in ("repeat", "first"))
    what = f"`verify_access_token`, JWKS cached, median of {sizes.verify_calls}"
    return [
        Result(
            "P6",
            f"{what}: a token verified before (the verified-token cache)",
            f"{repeat:.1f} us ({first / repeat:.0f}x faster than a first verification)",
            f"<= {REPEAT_TARGET_US:.0f} us",
            check(repeat <= REPEAT_TARGET_US, sizes),
        ),
        Result("P6", f"{what}: a token not seen before (ES256 signature and claims)", f"{first:.1f} us"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verifies", type=int, default=5000)
    parser.add_argument("--remote", type=int, default=500)
    args = parser.parse_args()
    times = asyncio.run(measure(args.verifies, args.remote))
    print(f"verify_access_token, same token again  {per_call_us(times['repeat'])}   ({args.verifies} calls)")
    print(f"verify_access_token, new token         {per_call_us(times['first'])}   ({args.verifies} tokens)")
    print(f"get_user_from_token (/users/me)        {per_call_us(times['remote'])}   ({args.remote} calls, loopback)")
    ratio = statistics.median(times["remote"]) / statistics.median(times["first"])
    print(f"ratio: one /users/me costs {ratio:.0f}x one first verification (loopback; add network latency for real)")


if __name__ == "__main__":
    main()
