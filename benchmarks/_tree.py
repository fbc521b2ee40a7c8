"""Run one command and measure its whole process tree; print the figures as JSON.

    python benchmarks/_tree.py [--timeout S] [--stop-after S] [--out FILE] -- CMD ...

netplanet parses in a forkserver process pool: the workers are children of the forkserver,
which is a child of netplanet but is never waited for by it (it exits after netplanet, and
would be re-parented to init), so `wait4` on netplanet alone misses the workers' CPU. This
wrapper makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so every orphaned
descendant is re-parented to it; it reaps them all (the forkserver reaps its own workers,
whose times then count in the forkserver's), and reports:

- wall: from start until the command's own process exits;
- cpu: user+sys of every descendant (getrusage(RUSAGE_CHILDREN) once all are reaped; the
  wrapper's own CPU is not in it);
- own_cpu: user+sys of the command's own process (wait4's rusage: it and the children it
  waited for, so not netplanet's forkserver and parse workers); cpu - own_cpu is what the
  rest of the tree cost;
- rss_mb: peak RSS of the command's own process (ru_maxrss from wait4);
- tree_rss_mb: peak of the summed RSS (VmRSS from /proc/<pid>/status) of all processes in
  the tree, sampled every 50 ms (shared pages count once per process: an upper bound); the
  exit is polled every 10 ms;
- rc: the command's exit code.

--stop-after sends SIGINT after that many seconds (for long-running services); --timeout
kills the whole tree (SIGKILL) after that many seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for c in parents.get(pid, []):
            out.append(c)
            todo.append(c)
    return out


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--stop-after", type=float)
    ap.add_argument("--out", type=Path)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
    me = os.getpid()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    wall = None
    rc = None
    rss_kib = 0
    own_cpu = 0.0
    tree_peak = 0
    stopped = False
    tick = 0
    while True:
        tick += 1
        now = time.perf_counter() - started
        if args.stop_after is not None and not stopped and now > args.stop_after:
            proc.send_signal(signal.SIGINT)
            stopped = True
        if now > args.timeout:
            for pid in _tree(me):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if tick % 5 == 1:
            tree_peak = max(tree_peak, sum(_rss_kib(p) for p in _tree(me)))
        while True:  # reap whatever has exited: the command, or re-parented descendants
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                pid = -1
                break
            if not pid:
                break
            if pid == proc.pid:
                wall = time.perf_counter() - started
                rc = os.waitstatus_to_exitcode(status)
                rss_kib = usage.ru_maxrss
                own_cpu = usage.ru_utime + usage.ru_stime
                proc.returncode = rc
        if pid == -1:  # no children left at all
            break
        time.sleep(0.01)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = {
        "wall": wall,
        "cpu": ru.ru_utime + ru.ru_stime,
        "own_cpu": own_cpu,
        "rss_mb": rss_kib / 1024,
        "tree_rss_mb": tree_peak / 1024,
        "rc": rc,
    }
    text = json.dumps(res)
    if args.out:
        args.out.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
