#!/usr/bin/python3
"""csv_peer.py -- the pandas peer of the CSV (and JSON lines) import benchmarks.

    /usr/bin/python3 bench/csv_peer.py FILE

Times pandas.read_csv (default C engine, default type inference) on FILE, or
pandas.read_json(lines=True) when FILE ends in .jsonl (bench/json.sh), and
prints one line "pandas: MB/s=... seconds=... cpu_s=... rows=... cols=...
peak_rss_mb=...", the same fields as bench_csv: wall and CPU (user + system)
seconds of the read_csv call; peak RSS is getrusage's ru_maxrss of this process.
"""
import os
import resource
import sys
import time

import pandas as pd


def main():
    path = sys.argv[1]
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    df = pd.read_json(path, lines=True) if path.endswith(".jsonl") else pd.read_csv(path)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    mb = os.path.getsize(path) / 1e6
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("pandas: MB/s=%.1f seconds=%.3f cpu_s=%.3f rows=%d cols=%d file_mb=%.1f "
          "peak_rss_mb=%.1f" % (mb / dt, dt, cpu, df.shape[0], df.shape[1], mb, rss))


if __name__ == "__main__":
    main()
