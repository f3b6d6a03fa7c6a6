#!/usr/bin/env python3
"""Prints each cold (SSD) row of results.json files as a percentage of the disk read bound measured in the same
invocation (results.json's read_bound: the best over methods x threads, and the best with the row's own read method).
Usage: cold_pct.py RESULTS.json... (rows of hot runs are listed without a percentage)."""
import json
import sys


def main(paths):
    for path in paths:
        try:
            with open(path) as f:
                d = json.load(f)
        except (OSError, ValueError) as e:
            print(f"{path}: cannot read: {e}")
            continue
        rb = d.get("read_bound") or {}
        best = (rb.get("best") or {}).get("frames_per_s")
        per_method = {}
        for b in rb.get("sweep", []):
            m = b["method"] if not b.get("fallback") else "pread"
            per_method[m] = max(per_method.get(m, 0.0), b["frames_per_s"])
        print(f"== {path}")
        if best:
            print(f"  disk bound: {best:.0f} frames/s ({rb['best']['method']}, {rb['best']['threads']} threads); "
                  + ", ".join(f"{m} {v:.0f}" for m, v in sorted(per_method.items())))
        else:
            print("  disk bound: not measured in this invocation")
        for r in d.get("rows", []):
            fps = r["fps"]["median"]
            runs = r["fps"].get("runs") or [fps]
            line = (f"  {r['id']:<44} {r['source']} {r.get('read_method', 'pread'):>6} ra{r.get('read_ahead', 0)} "
                    f"{fps:8.0f} fps (runs {min(runs):.0f}-{max(runs):.0f})")
            if r["source"] == "SSD" and best:
                own = per_method.get(r.get("read_method", "pread"))
                line += f"  {100 * fps / best:5.1f}% of the bound"
                if own:
                    line += f", {100 * fps / own:5.1f}% of its method's"
            if not r.get("valid", True):
                line += "  INVALID: " + "; ".join(r.get("invalid_reasons", []))
            print(line)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
