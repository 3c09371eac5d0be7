"""python -m spendgate.sinks.stubs flexprice|metronome|lago --port N [--api-key K]
[--fault-rate R] [--faults 5xx,429,slow,drop,drop_after] [--seed S]"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from spendgate.sinks.stubs import FAULT_KINDS, STUBS, Faults


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spendgate.sinks.stubs")
    parser.add_argument("vendor", choices=sorted(STUBS))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--faults", default=",".join(FAULT_KINDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slow-s", type=float, default=1.0)
    args = parser.parse_args(argv)
    faults = Faults(
        rate=args.fault_rate,
        kinds=tuple(k for k in args.faults.split(",") if k),
        seed=args.seed,
        slow_s=args.slow_s,
    )
    stub = STUBS[args.vendor](api_key=args.api_key, faults=faults)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    url = stub.start(args.port, args.host)
    print(f"{args.vendor} stub listening on {url}", flush=True)
    stop.wait()
    stub.stop()
    accepted = len(stub.accepted())
    print(f"accepted {accepted} events, {stub.duplicates} duplicates", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
