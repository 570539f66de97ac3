"""Sort an export of any size by (user_id, task_id) within a fixed memory budget.

Rows are spilled to uncompressed Arrow IPC files, one per leading character of `user_id`; reading
the buckets back in key order and sorting each one gives the globally sorted table with one bucket
in memory at a time (and sorting 16 small tables is ~4x faster than one big one). Every user lands
in exactly one bucket, so per-user aggregates can be computed a bucket at a time too.

Cognito subs are random UUIDs, so the 16 hex buckets fill evenly; ids a load test or an import
counted up share long prefixes and may all land in one bucket. A bucket that grew too big is
therefore cut, before it is read, into ranges of user ids chosen from a sample of its own ids, so
bucket sizes stay bounded whatever the ids look like; only one user's tasks are never cut apart.
"""

import threading
from bisect import bisect_left
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
# An oversized bucket is cut into ranges of about half the maximum, so that sampling error does
# not leave a range over it; 100 samples per range put a range's size within ~10 % of the aim.
SAMPLES_PER_RANGE = 100
# Files open at once while a bucket is cut; a bigger bucket is cut again on the next pass.
MAX_RANGES_PER_SPLIT = 256


class UserBucketSpill:
    """Spill area that several threads may `add` to; `map_sorted_buckets()` then reads it back."""

    def __init__(
        self, spill_dir: Path, schema: pa.Schema, range_bounds: list[str] | None = None
    ) -> None:
        """Buckets by first character of `user_id`, or by its range between `range_bounds`."""
        spill_dir.mkdir(parents=True)
        self._dir = spill_dir
        self._schema = schema
        self._range_bounds = range_bounds
        self._writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}
        self._rows: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, rows: pa.Table) -> None:
        # One sort + contiguous slices instead of one filter pass per bucket.
        if self._range_bounds is None:
            grouped_rows, runs = _group_by_first_character(rows)
        else:
            grouped_rows, runs = _group_by_range(rows, self._range_bounds)
        with self._lock:
            for key, start, end in runs:
                self._writer(key).write_table(grouped_rows.slice(start, end - start))
                self._rows[key] += end - start

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
            finer = self._split(key) if self._rows[key] > MAX_BUCKET_ROWS else None
            if finer is None:
                yield partial(self._read_sorted, key)
            else:
                yield from finer._sorted_bucket_readers()

    def _split(self, key: str) -> "UserBucketSpill | None":
        """The bucket cut into user id ranges, or None if it is (nearly) all one user's tasks."""
        path = self._bucket_path(key)
        bounds = _range_bounds(path, self._rows[key])
        if not bounds:
            return None
        finer = UserBucketSpill(self._dir / f"split-{key.encode().hex()}", self._schema, bounds)
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


_Runs = list[tuple[str, int, int]]


def _group_by_first_character(rows: pa.Table) -> tuple[pa.Table, _Runs]:
    """`rows` ordered by bucket key, and each key's (key, start, end) slice of them."""
    keys = pc.utf8_slice_codeunits(pc.fill_null(rows["user_id"], ""), 0, 1)
    order = pc.sort_indices(keys)
    runs = pc.run_end_encode(keys.take(order).combine_chunks())
    ends = runs.run_ends.to_pylist()
    starts = [0, *ends[:-1]]
    return rows.take(order), list(zip(runs.values.to_pylist(), starts, ends, strict=True))


def _group_by_range(rows: pa.Table, bounds: list[str]) -> tuple[pa.Table, _Runs]:
    """Like `_group_by_first_character`, keyed by the index of the `bounds` range of user_id."""
    user_ids = pc.fill_null(rows["user_id"], "")
    order = pc.sort_indices(user_ids)
    sorted_ids = user_ids.take(order).combine_chunks()
    ends = [bisect_left(sorted_ids, bound, key=_user_id) for bound in bounds]
    ends.append(len(sorted_ids))
    starts = [0, *ends[:-1]]
    runs = [
        (f"{index:05d}", start, end)
        for index, (start, end) in enumerate(zip(starts, ends, strict=True))
        if end > start
    ]
    return rows.take(order), runs


def _range_bounds(bucket_path: Path, rows: int) -> list[str]:
    """User ids that cut a bucket of `rows` rows into ranges of about MAX_BUCKET_ROWS / 2 rows.

    They are quantiles of an evenly spaced sample of the bucket's user ids. Each bound is one of
    those ids and above the smallest sampled one, so every range holds rows and each is smaller
    than the bucket: cutting again always ends. No bounds means the bucket is one user's.
    """
    ranges = min(-(-rows // (MAX_BUCKET_ROWS // 2)), MAX_RANGES_PER_SPLIT)
    stride = max(1, rows // (ranges * SAMPLES_PER_RANGE))
    samples: list[pa.Array] = []
    offset = 0
    with pa.OSFile(str(bucket_path)) as source:
        for batch in pa.ipc.open_stream(source):
            first = -offset % stride
            indices = pa.array(range(first, batch.num_rows, stride), pa.int64())
            samples.append(batch.column("user_id").take(indices))
            offset += batch.num_rows
    sample = pc.fill_null(pa.concat_arrays(samples), "").sort().to_pylist()
    quantiles = {sample[index * len(sample) // ranges] for index in range(1, ranges)}
    return sorted(quantiles - {sample[0]})


def _user_id(value: pa.Scalar) -> str:
    return str(value.as_py())
