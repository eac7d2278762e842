"""Writes object rows in batches, one transaction per batch; test_store_crash.py runs it and kills it.

    python crash_writer.py WORKSPACE N_BATCHES BATCH_SIZE [HANG_AT]

Batch b holds the rows of task "batch<b>". At batch HANG_AT it writes the first half of the batch, prints
"batch HANG_AT sleeping" and sleeps inside the still-open transaction until it is killed.
"""

from __future__ import annotations

import sys
import time

from inward.store import ObjectRow, Store


def batch_rows(batch: int, lo: int, hi: int) -> list[ObjectRow]:
    return [
        ObjectRow(
            model="m1",
            model_id="id-m1",
            task=f"batch{batch}",
            item_id=f"item{i}",
            template_hash="t",
            config_key="greedy",
            split="val",
            item_text="x" * 2000,  # wide rows, so a half batch spans many pages
            raw=f"answer {batch}/{i}",
            properties={"i": i},
        )
        for i in range(lo, hi)
    ]


def main() -> None:
    workspace, n_batches, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    hang_at = int(sys.argv[4]) if len(sys.argv) > 4 else -1
    with Store.open(workspace) as store:
        # A tiny page cache makes SQLite spill the open transaction's pages into the WAL before COMMIT, so
        # the kill leaves uncommitted frames on disk (the case recovery has to get right).
        store._conn().execute("PRAGMA cache_size = 8")
        for b in range(n_batches):
            with store.transaction():
                print(f"batch {b} started", flush=True)
                added = store.put_object_rows(batch_rows(b, 0, size // 2))
                if b == hang_at:
                    print(f"batch {b} sleeping", flush=True)
                    time.sleep(60)
                added += store.put_object_rows(batch_rows(b, size // 2, size))
            print(f"batch {b} done added={added}", flush=True)


if __name__ == "__main__":
    main()
