"""CPU and wall of sealing a cold round's posts (store/sealing.py) on a copy of a real database.

    .venv/bin/python benchmarks/seal_cost.py DB [DB ...] [--repeats 3]

DB is a netplanet SQLite database after a cold round (farm_gap.py or update.py leave one per
run). Each DB is copied once; per repeat every position is cleared (untimed) and `seal` runs
over every post in one transaction, timed (process CPU and wall) with the `netplanet` on the
import path (set PYTHONPATH to compare trees). Prints; writes nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine

from netplanet.store.sealing import seal


def _clear(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("UPDATE entries SET seq = NULL, source_seq = NULL")
    con.execute("UPDATE entry_categories SET seq = NULL")
    con.execute("UPDATE entry_topics SET seq = NULL")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("db", type=Path, nargs="+")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="netplanet-seal-"))
    try:
        copies = []
        for i, db in enumerate(args.db):
            copy = tmp / f"{i}.db"
            shutil.copyfile(db, copy)
            copies.append(copy)
        for rep in range(args.repeats):
            for db, copy in zip(args.db, copies, strict=True):
                _clear(copy)
                engine = create_engine(f"sqlite:///{copy}")
                t0, w0 = time.process_time(), time.perf_counter()
                with engine.begin() as conn:
                    n = seal(conn, datetime.now(UTC))
                cpu, wall = time.process_time() - t0, time.perf_counter() - w0
                engine.dispose()
                print(
                    f"rep {rep} {db}: {n} posts sealed, cpu {cpu:.2f} s wall {wall:.2f} s "
                    f"(load {' / '.join(f'{x:.2f}' for x in os.getloadavg())})",
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
