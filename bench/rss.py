#!/usr/bin/env python3
"""Memory of a server process (or a process tree), from /proc/PID/status and `ps -o rss`.

    rss.py [--tree] [--port PORT] [--watch SECS [--delay SECS] [--interval SECS]] PID

Prints one line of kB figures: VmRSS RssAnon RssFile RssShmem (from /proc/PID/status), Pss (from
/proc/PID/smaps_rollup: each page divided by the number of mappings of it, so a file or shared
memory mapped many times, by one process or by many, is counted once in total) and ps-rss, then
the number of processes summed and (with --port) the established TCP connections to PORT.
--tree sums over PID and all its descendants (PostgreSQL's postmaster and backends; shared
memory is then counted once per process that touched it). --watch samples every --interval
seconds for SECS seconds after waiting --delay seconds, and prints the sample with the largest
VmRSS (the peak).
"""
import argparse
import os
import subprocess
import sys
import time

FIELDS = ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Pss")


def status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in FIELDS:
                    out[key] = int(rest.split()[0])
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    out["Pss"] = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    except PermissionError:
        out.setdefault("Pss", 0)
    return out


def descendants(root):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def ps_rss(pids):
    r = subprocess.run(["ps", "-o", "rss=", "-p", ",".join(map(str, pids))],
                       capture_output=True, text=True)
    return sum(int(x) for x in r.stdout.split())


def connections(port):
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[3] == "01" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                        n += 1
        except FileNotFoundError:
            pass
    return n


def sample(pid, tree, port):
    pids = descendants(pid) if tree else [pid]
    tot = dict.fromkeys(FIELDS, 0)
    alive = []
    for p in pids:
        s = status(p)
        if s is None:
            continue
        alive.append(p)
        for k in FIELDS:
            tot[k] += s.get(k, 0)
    if not alive:
        sys.exit(f"rss.py: process {pid} is gone")
    tot["ps"] = ps_rss(alive)
    tot["n"] = len(alive)
    tot["conns"] = connections(port) if port else "-"
    return tot


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pid", type=int)
    ap.add_argument("--tree", action="store_true")
    ap.add_argument("--port", type=int)
    ap.add_argument("--watch", type=float)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--interval", type=float, default=0.25)
    a = ap.parse_args()
    if a.watch is None:
        best = sample(a.pid, a.tree, a.port)
    else:
        time.sleep(a.delay)
        end = time.monotonic() + a.watch
        best = None
        while True:
            s = sample(a.pid, a.tree, a.port)
            if best is None or s["VmRSS"] > best["VmRSS"]:
                best = s
            if time.monotonic() >= end:
                break
            time.sleep(a.interval)
    print(" ".join(str(best[k]) for k in FIELDS + ("ps", "n", "conns")))


if __name__ == "__main__":
    main()
