"""Sort an export of any size by (user_id, task_id) within a fixed memory budget.

Rows are spilled to uncompressed Arrow IPC files, one per leading character of `user_id`; reading
the buckets back in key order and sorting each one gives the globally sorted table with one bucket
in memory at a time (and sorting 16 small tables is ~4x faster than one big one). A bucket that
grew too big is split again on the next character before it is read, so memory stays flat
whatever the export's size. Every user lands in exactly one bucket, so per-user aggregates can be
computed a bucket at a time too. User ids are UUIDs, so the 16 hex buckets fill evenly.
"""

import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

SORT_KEYS = [("user_id", "ascending"), ("task_id", "ascending")]
# ~30 MiB of task rows: with a few buckets in flight the write phase stays near 150 MiB.
MAX_BUCKET_ROWS = 200_000
# Sorting and summarizing run in parallel with the caller writing Parquet: on two cores, two
# workers keep both busy.
SUMMARIZE_WORKERS = 2
# 16^4 buckets cover billions of rows; only many tasks of one user can exceed that, and then the
# bucket is sorted whole rather than split forever.
MAX_PREFIX_LENGTH = 4


class UserBucketSpill:
    """Spill area that several threads may `add` to; `map_sorted_buckets()` then reads it back."""

    def __init__(self, spill_dir: Path, schema: pa.Schema, prefix_length: int = 1) -> None:
        spill_dir.mkdir(parents=True)
        self._dir = spill_dir
        self._schema = schema
        self._prefix_length = prefix_length
        self._writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}
        self._rows: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, rows: pa.Table) -> None:
        keys = pc.utf8_slice_codeunits(pc.fill_null(rows["user_id"], ""), 0, self._prefix_length)
        # One sort + contiguous slices instead of one filter pass per bucket.
        order = pc.sort_indices(keys)
        grouped_rows = rows.take(order)
        runs = pc.run_end_encode(keys.take(order).combine_chunks())
        start = 0
        with self._lock:
            for key, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True):
                self._writer(key).write_table(grouped_rows.slice(start, end - start))
                self._rows[key] += end - start
                start = end

    def map_sorted_buckets(self, summarize: Callable[[pa.Table], T]) -> Iterator[T]:
        """`summarize(bucket)` of each bucket sorted by SORT_KEYS, in ascending user_id order.

        Buckets are read, sorted and summarized by SUMMARIZE_WORKERS background threads while
        the caller consumes earlier results, so only a few buckets are in memory at a time.
        """

        def read_and_summarize(read_sorted: Callable[[], pa.Table]) -> T:
            return summarize(read_sorted())

        with ThreadPoolExecutor(max_workers=SUMMARIZE_WORKERS) as workers:
            in_flight: deque[Future[T]] = deque()
            for read_sorted in self._sorted_bucket_readers():
                in_flight.append(workers.submit(read_and_summarize, read_sorted))
                if len(in_flight) > SUMMARIZE_WORKERS:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()

    def _sorted_bucket_readers(self) -> Iterator[Callable[[], pa.Table]]:
        for writer in self._writers.values():
            writer.close()
        # Code point order equals the UTF-8 byte order Arrow sorts strings by; "" (no user) first.
        for key in sorted(self._writers):
            if self._rows[key] > MAX_BUCKET_ROWS and self._prefix_length < MAX_PREFIX_LENGTH:
                yield from self._split(key)._sorted_bucket_readers()
            else:
                yield partial(self._read_sorted, key)

    def _split(self, key: str) -> "UserBucketSpill":
        finer = UserBucketSpill(
            self._dir / f"split-{key.encode().hex()}", self._schema, self._prefix_length + 1
        )
        path = self._bucket_path(key)
        with pa.OSFile(str(path)) as source:
            for batch in pa.ipc.open_stream(source):
                finer.add(pa.Table.from_batches([batch]))
        path.unlink()
        return finer

    def _bucket_path(self, key: str) -> Path:
        return self._dir / f"bucket-{key.encode().hex()}.arrow"

    def _writer(self, key: str) -> pa.ipc.RecordBatchStreamWriter:
        if key not in self._writers:
            self._writers[key] = pa.ipc.new_stream(str(self._bucket_path(key)), self._schema)
        return self._writers[key]

    def _read_sorted(self, key: str) -> pa.Table:
        path = self._bucket_path(key)
        with pa.OSFile(str(path)) as source:
            bucket = pa.ipc.open_stream(source).read_all()
        path.unlink()
        # A bucket arrives in many small chunks; sorting one contiguous table is ~35 % faster.
        return bucket.combine_chunks().sort_by(SORT_KEYS)
