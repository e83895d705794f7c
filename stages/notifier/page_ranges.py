"""Sets of page indices kept as sorted, inclusive, non-overlapping ranges: an export of 100,000 pages
archived in order is one pair, not 100,000 numbers."""

from __future__ import annotations

import bisect

Ranges = list[tuple[int, int]]


def has_page(ranges: Ranges, page: int) -> bool:
    i = bisect.bisect_right(ranges, (page, float("inf"))) - 1
    return i >= 0 and ranges[i][0] <= page <= ranges[i][1]


def add_page(ranges: Ranges, page: int) -> Ranges:
    if has_page(ranges, page):
        return ranges
    merged = sorted([*ranges, (page, page)])
    out: Ranges = []
    for start, end in merged:
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def count_pages(ranges: Ranges) -> int:
    return sum(end - start + 1 for start, end in ranges)
