"""Imported first by a benchmarked command: at exit it writes its own peak RSS (``VmHWM``)
to stderr as ``PEAK_RSS_MB n`` — ``getrusage(RUSAGE_CHILDREN)`` cannot say it, because a child
forked from a big process (the sandboxes live in the bench's) counts the parent's pages until
it execs. With ``BENCH_TRACE=1`` it also logs each rise of the peak next to the job's log
lines, to see which phase costs the memory."""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading
import time

_HWM = re.compile(r"VmHWM:\s+(\d+)")


def _peak() -> int:
    with open("/proc/self/status") as status:
        match = _HWM.search(status.read())
    return int(match.group(1)) // 1024 if match else 0


def _watch() -> None:
    last = 0
    while True:
        now = _peak()
        if now > last + 5:
            logging.getLogger("memtrace").info("peak RSS %d MB", now)
            last = now
        time.sleep(0.02)


atexit.register(lambda: sys.stderr.write(f"PEAK_RSS_MB {_peak()}\n"))
if os.environ.get("BENCH_TRACE"):
    logging.basicConfig(level=logging.INFO, format="%(relativeCreated)8.0f %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    threading.Thread(target=_watch, daemon=True).start()
