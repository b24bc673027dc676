"""Run skillbot's benchmarks (SPEC §7): ``python -m bench [--only NAME] [--quick]``.

Each benchmark starts what it needs (moto_server, the bot as ``python -m bot``, fakes) on
127.0.0.1 with free ports and temporary directories, stops it again, and prints medians,
percentiles and ratios measured in the same run. Budgets are reported, never enforced:
the exit status is non-zero only when a benchmark could not run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from bench import ack, chart, hotfix, regions, reminders, startup
from bench.harness import sigterm_as_interrupt

BENCHMARKS: dict[str, Callable[[bool], Any]] = {
    "ack": ack.run,
    "hotfix": hotfix.run,
    "regions": regions.run,
    "startup": startup.run,
    "reminders": reminders.run,
    "chart": chart.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help="run only this benchmark (repeatable): " + ", ".join(BENCHMARKS),
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds: a smoke run, noisier figures"
    )
    args = parser.parse_args(argv)
    sigterm_as_interrupt()
    names = args.only or list(BENCHMARKS)
    print(
        f"skillbot benchmarks: {', '.join(names)}{' (quick)' if args.quick else ''}; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}"
    )
    started = time.monotonic()
    failed = []
    for name in names:
        try:
            BENCHMARKS[name](args.quick)
        except KeyboardInterrupt:
            print(f"\ninterrupted during {name}; its processes were stopped", file=sys.stderr)
            return 130
        except Exception:
            failed.append(name)
            print(f"\n{name} could not run:", file=sys.stderr)
            traceback.print_exc()
    print(f"\nall done in {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"could not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
