#!/usr/bin/env python3
"""laspy's read speed on the same files as `cargo bench --bench point_cloud_read`, for BENCHMARKS.md.

Usage: python3 benches/laspy_read.py FILE.las FILE.laz [...]
Needs `pip install laspy lazrs`. Prints one markdown row per file: wall time, Mpts/s, peak RSS.
laspy reads every point's full record (`laspy.read`), then we touch x/y/z so the scaled
coordinates are really computed, as our reader computes them. LAZ files are read twice: with
laspy's default backend (lazrs, chunks decompressed in parallel on every core, `LazrsParallel`)
and with the single-threaded `Lazrs` backend.
"""
import resource
import sys
import time

import laspy


def main(paths):
    print("| reader | file | points | wall s | Mpts/s | peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|")
    for path in paths:
        backends = [None]
        if path.lower().endswith(".laz"):
            backends = [laspy.LazBackend.LazrsParallel, laspy.LazBackend.Lazrs]
        for backend in backends:
            start = time.perf_counter()
            las = laspy.read(path, laz_backend=backend) if backend else laspy.read(path)
            x, y, z = las.x, las.y, las.z
            _ = float(x[0]) + float(y[0]) + float(z[0]) if len(x) else 0.0
            wall = time.perf_counter() - start
            n = len(las.points)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            name = f"laspy {laspy.__version__}" + (f" ({backend.name})" if backend else "")
            print(f"| {name} | {path.rsplit('/', 1)[-1]} | {n} | {wall:.2f} | {n / wall / 1e6:.1f} | {rss:.0f} |")
            del las, x, y, z

if __name__ == "__main__":
    main(sys.argv[1:])
