"""What does a local access-token verification cost next to one ``GET /users/me``? Same run, same machine.

    python benchmarks/auth_verify.py [--verifies 5000] [--remote 500]

Runs the emulator over a loopback socket (uvicorn in a thread), signs a user in, then times, on one event loop:

- ``verify_access_token`` with the JWKS cached (what every request of a backend pays),
- the signature and claim checks alone (the CPU part; no await inside),
- ``get_user_from_token`` (one ``GET /users/me`` round trip, here to a server on the same machine: a real Stack
  server is a network hop away, so the real ratio is larger still),

and prints the per-call times and the ratio. The verification is a few tens of microseconds of CPU, short enough to
run on the event loop (offloading it to a thread would cost more than it saves).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from stack_auth import AsyncStackServerApp
from stack_auth.testing import Emulator
from stack_auth.tokens import accepted_user_types, parse_jwks, precheck, verify_token


def per_call_us(samples: list[float]) -> str:
    median = statistics.median(samples) * 1e6
    p95 = sorted(samples)[int(len(samples) * 0.95)] * 1e6
    return f"median {median:9.1f} us   p95 {p95:9.1f} us"


async def measure(verifies: int, remote: int) -> None:
    emu = Emulator(seed=1)
    with emu.serve() as base_url:
        user = emu.create_user(primary_email="bench@example.com", display_name="Bench")
        token = emu.create_session(user["id"], base_url=base_url)["access_token"]
        async with AsyncStackServerApp(
            project_id=emu.project_id, secret_server_key=emu.secret_server_key, base_url=base_url
        ) as app:
            await app.verify_access_token(token)  # JWKS fetched and cached
            assert await app.get_user_from_token(token) is not None  # pool warm

            local: list[float] = []
            for _ in range(verifies):
                started = time.perf_counter()
                await app.verify_access_token(token)
                local.append(time.perf_counter() - started)

            types = accepted_user_types(False, False)
            key = parse_jwks(emu.jwks())[precheck(token, emu.project_id, types)]
            cpu: list[float] = []
            for _ in range(verifies):
                started = time.perf_counter()
                verify_token(
                    token,
                    key,
                    project_id=emu.project_id,
                    base_url=base_url,
                    allow_anonymous=False,
                    allow_restricted=False,
                )
                cpu.append(time.perf_counter() - started)

            remote_times: list[float] = []
            for _ in range(remote):
                started = time.perf_counter()
                await app.get_user_from_token(token)
                remote_times.append(time.perf_counter() - started)

    print(f"verify_access_token (cached JWKS)  {per_call_us(local)}   ({verifies} calls)")
    print(f"  of which signature + claims      {per_call_us(cpu)}")
    print(f"get_user_from_token (/users/me)    {per_call_us(remote_times)}   ({remote} calls, loopback)")
    ratio = statistics.median(remote_times) / statistics.median(local)
    print(f"ratio: one /users/me costs {ratio:.0f}x one local verification (loopback; add network latency for real)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verifies", type=int, default=5000)
    parser.add_argument("--remote", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(measure(args.verifies, args.remote))


if __name__ == "__main__":
    main()
