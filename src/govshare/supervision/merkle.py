"""RFC 9162 Merkle tree hashing, proofs and incremental appends.

This module implements the Merkle Hash Tree of RFC 9162 (Certificate
Transparency 2.0), section 2.1, with SHA-256 as the hash algorithm:

* ``leaf_hash`` / ``node_hash``: the domain-separated hashes of section 2.1.1;
* ``root``: the Merkle Tree Hash (MTH) of a list of leaf hashes;
* ``inclusion_proof`` / ``consistency_proof``: PATH (section 2.1.3.1) and
  PROOF / SUBPROOF (section 2.1.4.1), generated from a ``NodeReader``;
* ``verify_inclusion`` / ``verify_consistency``: the iterative verification
  algorithms of sections 2.1.3.2 and 2.1.4.2, written independently from the
  generators;
* ``CompactRange``: an incremental appender that keeps only the right border
  of the tree and reports the new nodes each append creates;
* ``MemoryTree``: an in-memory ``NodeReader`` that stores every level.

Storage model
-------------
Every hash a store needs to keep is the hash of a *perfect subtree*: the
subtree of ``2**level`` leaves starting at leaf ``index * 2**level``. It is
identified by the coordinates ``(level, index)``; level 0 holds the leaf
hashes. Perfect subtrees never change once complete, so a store can persist
them append-only. Any node of the tree of size ``n`` (RFC 9162 MTH of
``D[start:end]``) is either such a perfect subtree or lies on the ragged right
edge of the tree; in the latter case its hash is the right-to-left fold of the
O(log n) perfect subtrees that decompose ``[start, end)``. Hence every proof
needs only O(log n) reads, and the exact list of coordinates can be computed
up front (``range_nodes``, ``proof_nodes``) so that a database can fetch them
in one query and serve them through a ``MappingReader``.

All hashes are 32-byte ``bytes`` values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from hmac import compare_digest
from itertools import repeat
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MappingReader",
    "MemoryTree",
    "NodeHash",
    "NodeReader",
    "consistency_proof",
    "consistency_proof_ranges",
    "inclusion_proof",
    "inclusion_proof_ranges",
    "leaf_hash",
    "node_hash",
    "proof_nodes",
    "range_hash",
    "range_nodes",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

HASH_SIZE = 32
"""Size in bytes of every hash (SHA-256)."""

EMPTY_ROOT = _sha256(b"").digest()
"""MTH({}) = HASH(), the root of the empty tree (RFC 9162 section 2.1.1)."""


# ---------------------------------------------------------------------------
# Hashing (RFC 9162 section 2.1.1)
# ---------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Return the leaf hash MTH({d(0)}) = HASH(0x00 || d(0)) (RFC 9162 section 2.1.1)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash HASH(0x01 || left || right) (RFC 9162 section 2.1.1)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str = "hash") -> None:
    if not isinstance(value, bytes):
        raise TypeError(f"{what} must be bytes, not {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _check_hashes(values: Sequence[bytes], what: str = "leaf hash") -> None:
    for value in values:
        if type(value) is not bytes or len(value) != HASH_SIZE:
            _check_hash(value, what)


def _pair_level(hashes: Sequence[bytes]) -> list[bytes]:
    """Hash consecutive pairs ``(h[0], h[1]), (h[2], h[3]), ...``; an odd last element is dropped."""
    sha = _sha256
    prefix = _NODE_PREFIX
    it = iter(hashes)
    return [sha(prefix + left + right).digest() for left, right in zip(it, it, strict=False)]


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """Fold perfect-subtree hashes (left to right, decreasing sizes) into one MTH.

    This is the ragged right edge of RFC 9162 section 2.1.1: MTH(D[n]) =
    HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])), applied recursively to the right
    part, i.e. ``h0 . (h1 . (h2 . ...))``.
    """
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = _sha256(_NODE_PREFIX + left + result).digest()
    return result


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash of a list of leaf hashes (RFC 9162 section 2.1.1).

    The tree is computed level by level: complete pairs are hashed and an
    unpaired last node is carried up unchanged, which yields exactly the
    left-balanced MTH of the RFC (split at the largest power of two smaller
    than n). The empty tree has root ``SHA-256("")``.
    """
    level = list(leaf_hashes)
    _check_hashes(level)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        upper = _pair_level(level)
        if len(level) & 1:
            upper.append(level[-1])
        level = upper
    return level[0]


# ---------------------------------------------------------------------------
# Perfect subtrees and arbitrary tree nodes
# ---------------------------------------------------------------------------


@runtime_checkable
class NodeReader(Protocol):
    """Read access to stored perfect-subtree hashes.

    ``subtree_hash(level, index)`` returns the hash of the perfect subtree of
    ``2**level`` leaves starting at leaf ``index * 2**level`` (level 0 is the
    leaf hash of leaf ``index``). Implementations raise ``LookupError`` (e.g.
    ``KeyError`` or ``IndexError``) for a subtree that is not stored.
    """

    def subtree_hash(self, level: int, index: int) -> bytes:
        """Return the hash of perfect subtree ``(level, index)``."""
        ...


class NodeHash(NamedTuple):
    """A perfect-subtree hash with its coordinates, as produced by appends."""

    level: int
    index: int
    hash: bytes


class MappingReader:
    """A ``NodeReader`` over a mapping ``{(level, index): hash}``.

    Useful for stores that prefetch the coordinates returned by
    ``range_nodes`` / ``proof_nodes`` in a single query.
    """

    __slots__ = ("_nodes",)

    def __init__(self, nodes: Mapping[tuple[int, int], bytes]) -> None:
        self._nodes = nodes

    def subtree_hash(self, level: int, index: int) -> bytes:
        """Return the stored hash; raises ``KeyError`` if it was not provided."""
        return self._nodes[(level, index)]


def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose the leaf range ``[start, end)`` into perfect subtrees.

    Returns the coordinates ``(level, index)`` from left to right (decreasing
    sizes), i.e. the greedy binary decomposition of ``end - start``. The range
    must be a node of some RFC 9162 tree: ``start`` must be a multiple of the
    largest power of two not exceeding ``end - start`` (every node of the tree
    of size n, including those on the ragged right edge, satisfies this). At
    most ``log2(end - start) + 1`` coordinates are returned; an empty range
    returns ``[]``.
    """
    if start < 0 or end < start:
        raise ValueError(f"invalid range [{start}, {end})")
    nodes: list[tuple[int, int]] = []
    position = start
    remaining = end - start
    while remaining:
        level = remaining.bit_length() - 1
        width = 1 << level
        if position & (width - 1):
            raise ValueError(f"range [{start}, {end}) is not a node of a Merkle tree (misaligned start)")
        nodes.append((level, position >> level))
        position += width
        remaining -= width
    return nodes


def range_hash(reader: NodeReader, start: int, end: int) -> bytes:
    """Return MTH(D[start:end]) for a node ``[start, end)`` of the tree (RFC 9162 section 2.1.1).

    The range is decomposed into perfect subtrees (``range_nodes``), each read
    once from ``reader``, and folded right to left, as the RFC's recursive
    definition does on the ragged right edge. Uses O(log n) reads. The empty
    range yields ``EMPTY_ROOT``.
    """
    nodes = range_nodes(start, end)
    if not nodes:
        return EMPTY_ROOT
    return _fold_right([reader.subtree_hash(level, index) for level, index in nodes])


def _split_point(size: int) -> int:
    """Return k, the largest power of two smaller than ``size`` (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


# ---------------------------------------------------------------------------
# Proof generation (RFC 9162 sections 2.1.3.1 and 2.1.4.1)
# ---------------------------------------------------------------------------


def inclusion_proof_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose MTHs form PATH(index, D[tree_size]) (RFC 9162 section 2.1.3.1).

    The ranges are listed in proof order (from the leaf's sibling up to the
    root's child). Raises ``ValueError`` unless ``0 <= index < tree_size``.
    """
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} out of range for tree size {tree_size}")
    ranges: list[tuple[int, int]] = []
    low, high = 0, tree_size
    # Walk down from the root; PATH appends the sibling after the deeper path.
    while high - low > 1:
        middle = low + _split_point(high - low)
        if index < middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
    ranges.reverse()
    return ranges


def consistency_proof_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose MTHs form PROOF(first, D[second]) (RFC 9162 section 2.1.4.1).

    PROOF(m, D[n]) = SUBPROOF(m, D[n], true); the recursion is unrolled with
    the subtree ``[low, high)`` and the flag ``b`` of the RFC. The proof is
    empty when ``first == second`` or ``first == 0``. Raises ``ValueError``
    unless ``0 <= first <= second``.
    """
    if not 0 <= first <= second:
        raise ValueError(f"invalid consistency proof sizes {first} -> {second}")
    if first in (0, second):
        return []
    ranges: list[tuple[int, int]] = []
    low, high = 0, second
    whole = True  # the flag b of SUBPROOF
    while high != first:  # i.e. m < n for the current subtree
        middle = low + _split_point(high - low)
        if first <= middle:
            ranges.append((middle, high))
            high = middle
        else:
            ranges.append((low, middle))
            low = middle
            whole = False
    if not whole:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        ranges.append((low, high))
    ranges.reverse()
    return ranges


def proof_nodes(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return the distinct perfect-subtree coordinates needed to hash ``ranges``.

    Pass the output of ``inclusion_proof_ranges`` / ``consistency_proof_ranges``
    (or ``[(0, size)]`` for a root) to learn which ``(level, index)`` rows a
    store must fetch; serve them through ``MappingReader``.
    """
    seen: dict[tuple[int, int], None] = {}
    for start, end in ranges:
        for node in range_nodes(start, end):
            seen.setdefault(node)
    return list(seen)


def inclusion_proof(reader: NodeReader, index: int, tree_size: int) -> list[bytes]:
    """Return the RFC 9162 inclusion proof PATH(index, D[tree_size]) (section 2.1.3.1).

    Uses O(log n) perfect-subtree reads: at most one sibling lies on the
    ragged right edge (and needs up to log2(n) reads), all others are perfect.
    """
    return [range_hash(reader, start, end) for start, end in inclusion_proof_ranges(index, tree_size)]


def consistency_proof(reader: NodeReader, first: int, second: int) -> list[bytes]:
    """Return the RFC 9162 consistency proof PROOF(first, D[second]) (section 2.1.4.1).

    The proof is empty when ``first == second`` or ``first == 0``. Uses
    O(log n) perfect-subtree reads, as for ``inclusion_proof``.
    """
    return [range_hash(reader, start, end) for start, end in consistency_proof_ranges(first, second)]


# ---------------------------------------------------------------------------
# Proof verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2)
# ---------------------------------------------------------------------------


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes) -> bool:
    """Verify an inclusion proof with the algorithm of RFC 9162 section 2.1.3.2.

    ``leaf_hash`` is the leaf hash (HASH(0x00 || entry)) of the leaf at
    ``index`` in the tree of ``tree_size`` leaves whose root is ``root``.
    Returns ``False`` for any malformed input instead of raising.
    """
    if not (_is_hash(leaf_hash) and _is_hash(root) and all(_is_hash(p) for p in path)):
        return False
    # 1. leaf_index must be smaller than tree_size.
    if index < 0 or index >= tree_size:
        return False
    # 2. fn = leaf_index, sn = tree_size - 1; 3. r = hash.
    fn, sn = index, tree_size - 1
    r = leaf_hash
    # 4. For each value p in the inclusion_path array:
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # 5. sn must be 0 and r must equal the root hash.
    return sn == 0 and compare_digest(r, root)


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> bool:
    """Verify a consistency proof with the algorithm of RFC 9162 section 2.1.4.2.

    The RFC algorithm covers ``0 < first < second``. The trivial cases are
    handled as follows: ``first == second`` requires an empty proof and equal
    roots; ``first == 0`` requires an empty proof and ``first_root`` to be the
    empty-tree hash (every tree extends the empty tree). Returns ``False`` for
    any malformed input instead of raising.
    """
    if not (_is_hash(first_root) and _is_hash(second_root) and all(_is_hash(c) for c in path)):
        return False
    if first < 0 or second < first:
        return False
    if first == second:
        same = compare_digest(first_root, second_root)
        return not path and same and (first != 0 or compare_digest(first_root, EMPTY_ROOT))
    if first == 0:
        return not path and compare_digest(first_root, EMPTY_ROOT)
    # 1. An empty consistency_path fails.
    if not path:
        return False
    proof = list(path)
    # 2. If first is an exact power of 2, prepend first_hash.
    if first & (first - 1) == 0:
        proof.insert(0, first_root)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = first - 1, second - 1
    # 4. While LSB(fn) is set, right-shift both fn and sn.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = first value of the path.
    fr = sr = proof[0]
    # 6. For each subsequent value c:
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # 7. fr == first_hash, sr == second_hash and sn == 0.
    return sn == 0 and compare_digest(fr, first_root) and compare_digest(sr, second_root)


# ---------------------------------------------------------------------------
# Incremental appends
# ---------------------------------------------------------------------------


def _node_hashes(level: int, first_index: int, hashes: list[bytes]) -> Iterator[NodeHash]:
    """Yield ``NodeHash(level, first_index + i, hashes[i])``.

    ``tuple.__new__`` builds the named tuples in C, about twice as fast as
    calling ``NodeHash`` once per node, which matters for bulk appends.
    """
    rows = zip(repeat(level), range(first_index, first_index + len(hashes)), hashes)
    return map(tuple.__new__, repeat(NodeHash), rows)


class CompactRange:
    """The right border of a tree, able to append leaves and compute the root.

    The border of a tree of ``size`` leaves is the list of perfect subtrees
    that decompose ``[0, size)`` (``range_nodes(0, size)``): one per set bit of
    ``size``, from the largest to the smallest, so at most ``log2(size) + 1``
    hashes. It is all that is needed to append leaves and to compute the root
    (RFC 9162 section 2.1.1). A store loads the border with ``from_reader``,
    calls ``extend`` with the new leaf hashes and persists the returned
    ``NodeHash`` values, which are exactly the perfect subtrees completed by
    the append.
    """

    __slots__ = ("_border", "_size")

    def __init__(self, size: int = 0, border: Sequence[bytes] = ()) -> None:
        border = list(border)
        if size < 0:
            raise ValueError(f"tree size must be non-negative, got {size}")
        if len(border) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} border hashes, got {len(border)}")
        _check_hashes(border, "border hash")
        self._size = size
        self._border = border

    @classmethod
    def from_reader(cls, reader: NodeReader, size: int) -> CompactRange:
        """Load the border of the tree of ``size`` leaves (popcount(size) reads)."""
        return cls(size, [reader.subtree_hash(level, index) for level, index in range_nodes(0, size)])

    @property
    def size(self) -> int:
        """Number of leaves in the tree."""
        return self._size

    @property
    def border(self) -> tuple[bytes, ...]:
        """Border hashes, largest subtree first."""
        return tuple(self._border)

    def border_nodes(self) -> list[NodeHash]:
        """Border hashes with their coordinates, largest subtree first."""
        return [
            NodeHash(level, index, digest)
            for (level, index), digest in zip(range_nodes(0, self._size), self._border, strict=True)
        ]

    def root(self) -> bytes:
        """Return MTH of the whole tree (RFC 9162 section 2.1.1) without any read."""
        if not self._border:
            return EMPTY_ROOT
        return _fold_right(self._border)

    def append(self, leaf_hash: bytes) -> list[NodeHash]:
        """Append one leaf hash; return the perfect subtrees it completes (leaf first)."""
        return self.extend((leaf_hash,))

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[NodeHash]:
        """Append leaf hashes; return every perfect subtree completed, ordered by (level, index).

        The returned nodes include the new leaves themselves (level 0). Work is
        batched level by level, so appending n leaves costs about n hashes.
        """
        new = list(leaf_hashes)
        _check_hashes(new)
        if not new:
            return []
        old_size = self._size
        new_size = old_size + len(new)
        old_border = {level: digest for (level, _), digest in zip(range_nodes(0, old_size), self._border, strict=True)}
        created: list[NodeHash] = []
        last_created: dict[int, bytes] = {}
        level = 0
        current = new  # completed nodes at `level`, starting at index old_size >> level
        while current:
            first_index = old_size >> level
            created.extend(_node_hashes(level, first_index, current))
            last_created[level] = current[-1]
            # An odd first index means its left sibling is the old border node of this level.
            pending = [old_border[level], *current] if first_index & 1 else current
            current = _pair_level(pending)
            level += 1
        new_border: list[bytes] = []
        for level, index in range_nodes(0, new_size):
            if index >= old_size >> level:
                new_border.append(last_created[level])
            else:
                new_border.append(old_border[level])
        self._size = new_size
        self._border = new_border
        return created


# ---------------------------------------------------------------------------
# In-memory tree
# ---------------------------------------------------------------------------


class MemoryTree:
    """An in-memory Merkle tree storing every perfect-subtree hash (a ``NodeReader``).

    Level ``L`` holds the ``size >> L`` complete subtrees of ``2**L`` leaves.
    Roots and proofs are computed for any past size with O(log n) reads,
    exactly as a database-backed store would.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    def __len__(self) -> int:
        return len(self._levels[0])

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash."""
        self.extend((leaf_hash,))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append leaf hashes, completing upper levels batch by batch."""
        new = list(leaf_hashes)
        _check_hashes(new)
        levels = self._levels
        levels[0].extend(new)
        level = 0
        while True:
            below = levels[level]
            if level + 1 == len(levels):
                levels.append([])
            above = levels[level + 1]
            start = 2 * len(above)
            if len(below) - start < 2:
                break
            above.extend(_pair_level(below[start:]))
            level += 1
        while len(levels) > 1 and not levels[-1]:
            levels.pop()

    def leaf_hash(self, index: int) -> bytes:
        """Return the leaf hash at ``index``."""
        return self.subtree_hash(0, index)

    def subtree_hash(self, level: int, index: int) -> bytes:
        """Return the hash of perfect subtree ``(level, index)``; ``IndexError`` if incomplete."""
        if level < 0 or index < 0 or level >= len(self._levels) or index >= len(self._levels[level]):
            raise IndexError(f"no complete subtree at level {level}, index {index}")
        return self._levels[level][index]

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} out of range [0, {self.size}]")
        return size

    def root(self, size: int | None = None) -> bytes:
        """Return the MTH of the first ``size`` leaves (default: all)."""
        return range_hash(self, 0, self._check_size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return PATH(index, D[size]) (RFC 9162 section 2.1.3.1)."""
        return inclusion_proof(self, index, self._check_size(size))

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """Return PROOF(first, D[second]) (RFC 9162 section 2.1.4.1)."""
        return consistency_proof(self, first, self._check_size(second))

    def compact_range(self, size: int | None = None) -> CompactRange:
        """Return the border of the tree of ``size`` leaves (default: all)."""
        return CompactRange.from_reader(self, self._check_size(size))
