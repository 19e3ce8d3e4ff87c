"""``make bench`` / ``make bench-full``: run every benchmark script in turn.

Each ``bench/<name>.py`` is a module runnable as ``python -m bench.<name>``; the arguments for
the quick (a few minutes in all) and full runs are listed below. Each writes
``bench/results/<date>-<name>.json``.
Results are summarised by hand in docs/BENCHMARKS.md with the machine, command and date.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name: (quick arguments, full arguments)
ARGUMENTS: dict[str, tuple[list[str], list[str]]] = {
    "transform": (["--quick"], ["--full"]),
    "generate_org": (["--quick"], ["--full"]),
    "salesforce_emulator": (["--quick"], ["--full"]),
    "extract": (["--quick"], ["--full"]),
    "dataverse_emulator": (["--records", "20000"], ["--records", "200000"]),
    "load": (["--records", "20000", "--scale", "60"], ["--records", "120000", "--scale", "30"]),
    "baselines": (
        ["--records", "10000", "--scale", "60", "--baseline-seconds", "20"],
        ["--records", "60000", "--scale", "30", "--baseline-seconds", "60"],
    ),
    "scale": (
        ["--contacts", "2000", "10000", "--modes", "disk", "streamed"],
        ["--contacts", "10000", "100000", "1000000", "--modes", "disk", "streamed"],
    ),
    "scale_loads": (
        ["--contacts", "2000", "10000", "--build"],
        ["--contacts", "10000", "100000", "1000000", "--build"],
    ),
    # The full run includes 1M contacts: ~20 min to generate, then hours at the ceiling.
    "e2e": (["--contacts", "2000"], ["--contacts", "10000", "100000", "1000000"]),
}
ORDER = list(ARGUMENTS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a few minutes in all (default)")
    mode.add_argument("--full", action="store_true", help="every scale, up to 1M records")
    parser.add_argument("names", nargs="*", help="run only these benchmarks")
    args = parser.parse_args()
    names = args.names or [n for n in ORDER if (HERE / f"{n}.py").exists()]
    failures = 0
    for name in names:
        started = time.monotonic()
        extra = ARGUMENTS[name][1 if args.full else 0]
        print(f"== bench.{name} {' '.join(extra)}", flush=True)
        code = subprocess.call([sys.executable, "-m", f"bench.{name}", *extra], cwd=HERE.parent)
        print(f"== bench.{name}: exit {code} in {time.monotonic() - started:.0f}s", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
