"""Sort rows of any number by a key column within a fixed memory budget.

Rows are spilled to uncompressed Arrow IPC files, one per leading character of the key; reading
the buckets back in key order and sorting each one gives the globally sorted table with one bucket
in memory at a time (and sorting 16 small tables is ~4x faster than one big one). The transform
sorts its tasks by user this way, and then the partial tag counts by tag.

Cognito subs are random UUIDs, so the 16 hex buckets fill evenly; ids a load test or an import
counted up share long prefixes and may all land in one bucket. A bucket that grew too big is
therefore cut, before it is read, into ranges of keys chosen from a sample of its own keys, so
bucket sizes stay bounded whatever the keys look like. A key's rows stay in one bucket, so
per-key aggregates can be computed a bucket at a time, with one exception: when one key alone
outgrows a bucket (one user with millions of tasks), its rows are cut into ranges of `part_key`
and each of those buckets says which key it holds only part of.
"""

import threading
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

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


@dataclass(frozen=True)
class SortedBucket:
    """One bucket's rows sorted by key (then part key); `part_of` is the key whose rows it holds
    only some of, or None when it holds every row of each of its keys."""

    rows: pa.Table
    part_of: str | None


class BucketSpill:
    """Spill area that several threads may `add` to; `map_sorted_buckets()` then reads it back."""

    def __init__(
        self,
        spill_dir: Path,
        schema: pa.Schema,
        key: str = "user_id",
        part_key: str | None = "task_id",
        *,
        ranges: tuple[str, list[str]] | None = None,
        part_of: str | None = None,
    ) -> None:
        """Buckets by first character of `key`, or, given `ranges` = (column, bounds), by the
        range of that column between the bounds. `part_of`: the one key every row here has."""
        spill_dir.mkdir(parents=True)
        self._dir = spill_dir
        self._schema = schema
        self._key = key
        self._part_key = part_key
        self._ranges = ranges
        self._part_of = part_of
        self._writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}
        self._rows: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, rows: pa.Table) -> None:
        if not rows.num_rows:
            return
        # One sort + contiguous slices instead of one filter pass per bucket.
        if self._ranges is None:
            grouped_rows, runs = _group_by_first_character(rows, self._key)
        else:
            grouped_rows, runs = _group_by_range(rows, *self._ranges)
        with self._lock:
            for bucket, start, end in runs:
                self._writer(bucket).write_table(grouped_rows.slice(start, end - start))
                self._rows[bucket] += end - start

    def map_sorted_buckets(self, summarize: Callable[[SortedBucket], T]) -> Iterator[T]:
        """`summarize(bucket)` of each bucket, in ascending key order.

        Buckets are read, sorted and summarized by SUMMARIZE_WORKERS background threads while
        the caller consumes earlier results, so only a few buckets are in memory at a time.
        """

        def read_and_summarize(read_sorted: Callable[[], SortedBucket]) -> T:
            return summarize(read_sorted())

        with ThreadPoolExecutor(max_workers=SUMMARIZE_WORKERS) as workers:
            in_flight: deque[Future[T]] = deque()
            for read_sorted in self._sorted_bucket_readers():
                in_flight.append(workers.submit(read_and_summarize, read_sorted))
                if len(in_flight) > SUMMARIZE_WORKERS:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()

    def _sorted_bucket_readers(self) -> Iterator[Callable[[], SortedBucket]]:
        for writer in self._writers.values():
            writer.close()
        # Code point order equals the UTF-8 byte order Arrow sorts strings by; "" (no key) first.
        for bucket in sorted(self._writers):
            finer = self._split(bucket) if self._rows[bucket] > MAX_BUCKET_ROWS else None
            if finer is None:
                yield partial(self._read_sorted, bucket)
            else:
                yield from finer._sorted_bucket_readers()

    def _split(self, bucket: str) -> "BucketSpill | None":
        """The bucket cut into ranges of keys or, if it holds one key, of part keys; None if it
        cannot be cut (one key and no part key)."""
        path = self._bucket_path(bucket)
        rows = self._rows[bucket]
        column, part_of = self._key, self._part_of
        lowest, highest = _lowest_and_highest(path, self._key)
        if lowest == highest:
            if self._part_key is None:
                return None
            column, part_of = self._part_key, lowest
            if len(set(_lowest_and_highest(path, column))) == 1:
                return None
        bounds = _range_bounds(path, rows, column)
        finer = BucketSpill(
            self._dir / f"split-{bucket.encode().hex()}",
            self._schema,
            self._key,
            self._part_key,
            ranges=(column, bounds),
            part_of=part_of,
        )
        with pa.OSFile(str(path)) as source:
            for batch in pa.ipc.open_stream(source):
                finer.add(pa.Table.from_batches([batch]))
        path.unlink()
        return finer

    def _bucket_path(self, bucket: str) -> Path:
        return self._dir / f"bucket-{bucket.encode().hex()}.arrow"

    def _writer(self, bucket: str) -> pa.ipc.RecordBatchStreamWriter:
        if bucket not in self._writers:
            self._writers[bucket] = pa.ipc.new_stream(str(self._bucket_path(bucket)), self._schema)
        return self._writers[bucket]

    def _read_sorted(self, bucket: str) -> SortedBucket:
        path = self._bucket_path(bucket)
        with pa.OSFile(str(path)) as source:
            rows = pa.ipc.open_stream(source).read_all()
        path.unlink()
        sort_keys = [(self._key, "ascending")]
        if self._part_key is not None:
            sort_keys.append((self._part_key, "ascending"))
        # A bucket arrives in many small chunks; sorting one contiguous table is ~35 % faster.
        return SortedBucket(rows.combine_chunks().sort_by(sort_keys), self._part_of)


_Runs = list[tuple[str, int, int]]


def _group_by_first_character(rows: pa.Table, key: str) -> tuple[pa.Table, _Runs]:
    """`rows` ordered by bucket, and each bucket's (bucket, start, end) slice of them."""
    keys = pc.utf8_slice_codeunits(pc.fill_null(rows[key], ""), 0, 1)
    order = pc.sort_indices(keys)
    runs = pc.run_end_encode(keys.take(order).combine_chunks())
    ends = runs.run_ends.to_pylist()
    starts = [0, *ends[:-1]]
    return rows.take(order), list(zip(runs.values.to_pylist(), starts, ends, strict=True))


def _group_by_range(rows: pa.Table, column: str, bounds: list[str]) -> tuple[pa.Table, _Runs]:
    """Like `_group_by_first_character`, bucketed by the `bounds` range of `column`."""
    values = pc.fill_null(rows[column], "")
    order = pc.sort_indices(values)
    sorted_values = values.take(order).combine_chunks()
    ends = [bisect_left(sorted_values, bound, key=_as_str) for bound in bounds]
    ends.append(len(sorted_values))
    starts = [0, *ends[:-1]]
    runs = [
        (f"{index:05d}", start, end)
        for index, (start, end) in enumerate(zip(starts, ends, strict=True))
        if end > start
    ]
    return rows.take(order), runs


def _range_bounds(bucket_path: Path, rows: int, column: str) -> list[str]:
    """Values of `column` that cut a bucket of `rows` rows into ranges of ~MAX_BUCKET_ROWS / 2.

    They are quantiles of an evenly spaced sample of the bucket's values. Each bound is one of
    those values and above the smallest sampled one, so every range holds rows and each is smaller
    than the bucket: cutting again always ends. If one value fills most of the sample, the bounds
    give it a range of its own instead; as the column holds other values too (the caller checks),
    that cut also leaves every range smaller than the bucket.
    """
    ranges = min(-(-rows // max(1, MAX_BUCKET_ROWS // 2)), MAX_RANGES_PER_SPLIT)
    stride = max(1, rows // (ranges * SAMPLES_PER_RANGE))
    samples: list[pa.Array] = []
    offset = 0
    with pa.OSFile(str(bucket_path)) as source:
        for batch in pa.ipc.open_stream(source):
            first = -offset % stride
            indices = pa.array(range(first, batch.num_rows, stride), pa.int64())
            samples.append(batch.column(column).take(indices))
            offset += batch.num_rows
    sample = pc.fill_null(pa.concat_arrays(samples), "").sort().to_pylist()
    quantiles = {sample[index * len(sample) // ranges] for index in range(1, ranges)}
    # "\0" appended: the smallest string after the value.
    return sorted(quantiles - {sample[0]}) or [sample[0], sample[0] + "\0"]


def _lowest_and_highest(bucket_path: Path, column: str) -> tuple[str, str]:
    """The smallest and largest value of `column` in the bucket, a null counting as ""."""
    extremes: list[str] = []
    with pa.OSFile(str(bucket_path)) as source:
        for batch in pa.ipc.open_stream(source):
            bounds = pc.min_max(pc.fill_null(batch.column(column), ""))
            extremes += [bounds["min"].as_py(), bounds["max"].as_py()]
    return min(extremes), max(extremes)


def _as_str(value: pa.Scalar) -> str:
    return str(value.as_py())
