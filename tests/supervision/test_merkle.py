"""Tests of the RFC 9162 Merkle tree (govshare.supervision.merkle).

Known-answer vectors are the classic Certificate Transparency test vectors
(eight leaves, their roots, and inclusion/consistency proofs), as published in
google/certificate-transparency and transparency-dev/merkle
(proof/verify_test.go). The tree is also cross-checked against pymerkle, an
independent implementation.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from govshare.supervision.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MappingReader,
    MemoryTree,
    NodeHash,
    NodeReader,
    consistency_proof,
    consistency_proof_ranges,
    inclusion_proof,
    inclusion_proof_ranges,
    leaf_hash,
    node_hash,
    proof_nodes,
    range_hash,
    range_nodes,
    root,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------
# Certificate Transparency known-answer vectors
# ---------------------------------------------------------------------------

CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]

# CT_ROOTS[i] is the root of the tree of the first i + 1 leaves.
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

EMPTY_TREE_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# (leaf index (0-based), tree size, path)
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (0, 1, []),
]

# (first size, second size, proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def ct_tree() -> MemoryTree:
    return MemoryTree(leaf_hash(d) for d in CT_LEAVES)


def ct_root(size: int) -> bytes:
    return bytes.fromhex(CT_ROOTS[size - 1])


def unhex(path: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in path]


def make_leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(8, "big")) for i in range(n)]


def reference_mth(hashes: list[bytes]) -> bytes:
    """The recursive definition of RFC 9162 section 2.1.1, written literally."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(hashes[:k]) + reference_mth(hashes[k:])).digest()


def flip(value: bytes, bit: int = 3) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# ---------------------------------------------------------------------------
# Hashing and roots
# ---------------------------------------------------------------------------


def test_hash_primitives() -> None:
    assert EMPTY_ROOT.hex() == EMPTY_TREE_HEX
    assert leaf_hash(b"").hex() == CT_ROOTS[0]
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_known_roots() -> None:
    hashes = [leaf_hash(d) for d in CT_LEAVES]
    tree = ct_tree()
    assert root([]) == EMPTY_ROOT
    assert tree.root(0) == EMPTY_ROOT
    for size in range(1, 9):
        assert root(hashes[:size]).hex() == CT_ROOTS[size - 1]
        assert tree.root(size).hex() == CT_ROOTS[size - 1]
        assert MemoryTree(hashes[:size]).root().hex() == CT_ROOTS[size - 1]
        assert CompactRange.from_reader(tree, size).root().hex() == CT_ROOTS[size - 1]


def test_root_matches_literal_rfc_definition() -> None:
    for size in range(0, 70):
        hashes = make_leaves(size)
        expected = reference_mth(hashes)
        assert root(hashes) == expected
        assert MemoryTree(hashes).root() == expected


def test_root_rejects_bad_hashes() -> None:
    with pytest.raises(ValueError):
        root([b"short"])
    with pytest.raises(TypeError):
        root(["0" * 32])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        MemoryTree([b"\x00" * 31])


# ---------------------------------------------------------------------------
# Ranges and readers
# ---------------------------------------------------------------------------


def test_range_nodes() -> None:
    assert range_nodes(0, 0) == []
    assert range_nodes(0, 1) == [(0, 0)]
    assert range_nodes(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert range_nodes(4, 7) == [(1, 2), (0, 6)]
    assert range_nodes(8, 16) == [(3, 1)]
    assert range_nodes(1_000_000, 1_000_000) == []
    with pytest.raises(ValueError):
        range_nodes(1, 3)  # leaves 1..2 never form a node
    with pytest.raises(ValueError):
        range_nodes(5, 4)


def test_range_hash_of_every_node() -> None:
    hashes = make_leaves(37)
    tree = MemoryTree(hashes)

    def check(low: int, high: int) -> None:
        # Every node of the RFC 9162 tree of size 37, including the right edge.
        assert range_hash(tree, low, high) == reference_mth(hashes[low:high])
        if high - low > 1:
            k = 1 << ((high - low - 1).bit_length() - 1)
            check(low, low + k)
            check(low + k, high)

    check(0, 37)


def test_memory_tree_is_a_node_reader() -> None:
    tree = MemoryTree(make_leaves(5))
    assert isinstance(tree, NodeReader)
    assert tree.subtree_hash(2, 0) == root(make_leaves(4))
    with pytest.raises(IndexError):
        tree.subtree_hash(1, 2)  # leaves 4..5 are not complete
    with pytest.raises(IndexError):
        tree.subtree_hash(3, 0)
    with pytest.raises(ValueError):
        tree.root(6)


def test_prefetched_reader_serves_proofs() -> None:
    tree = MemoryTree(make_leaves(1000))
    ranges = inclusion_proof_ranges(617, 999)
    nodes = proof_nodes(ranges)
    assert len(nodes) <= 2 * 10
    reader = MappingReader({node: tree.subtree_hash(*node) for node in nodes})
    assert inclusion_proof(reader, 617, 999) == tree.inclusion_proof(617, 999)
    c_nodes = proof_nodes(consistency_proof_ranges(333, 999))
    reader = MappingReader({node: tree.subtree_hash(*node) for node in c_nodes})
    assert consistency_proof(reader, 333, 999) == tree.consistency_proof(333, 999)
    root_reader = MappingReader({n: tree.subtree_hash(*n) for n in proof_nodes([(0, 999)])})
    assert range_hash(root_reader, 0, 999) == tree.root(999)


def test_reads_are_logarithmic() -> None:
    class CountingReader:
        def __init__(self, inner: MemoryTree) -> None:
            self.inner = inner
            self.reads = 0

        def subtree_hash(self, level: int, index: int) -> bytes:
            self.reads += 1
            return self.inner.subtree_hash(level, index)

    size = 2**12 - 1  # worst case: every bit set
    reader = CountingReader(MemoryTree(make_leaves(size)))
    for index in (0, 1, size // 2, size - 2, size - 1):
        reader.reads = 0
        inclusion_proof(reader, index, size)
        assert reader.reads <= 2 * 12
    for first in (1, 2, 3, 1000, size - 1):
        reader.reads = 0
        consistency_proof(reader, first, size)
        assert reader.reads <= 2 * 12 + 1


# ---------------------------------------------------------------------------
# Inclusion proofs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_known_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    tree = ct_tree()
    expected = unhex(path)
    assert tree.inclusion_proof(index, size) == expected
    leaf = leaf_hash(CT_LEAVES[index])
    assert verify_inclusion(leaf, index, size, expected, ct_root(size))


def corrupted_inclusion(index: int, size: int, path: list[bytes], root_hash: bytes, leaf: bytes):
    """Tampered variants, modelled on the CT/transparency-dev verifier tests."""
    probes = [
        (leaf, index - 1, size, path, root_hash),
        (leaf, index + 1, size, path, root_hash),
        (leaf, index ^ 2, size, path, root_hash),
        (leaf, index, size * 2, path, root_hash),
        (leaf, index, size // 2, path, root_hash),
        (leaf_hash(b"WrongLeaf"), index, size, path, root_hash),
        (leaf, index, size, path, EMPTY_ROOT),
        (leaf, index, size, path, SOME_HASH),
        (leaf, index, size, [*path, b""], root_hash),
        (leaf, index, size, [*path, root_hash], root_hash),
        (leaf, index, size, [b"", *path], root_hash),
        (leaf, index, size, [root_hash, *path], root_hash),
    ]
    for i in range(len(path)):
        wrong = list(path)
        wrong[i] = flip(wrong[i])
        probes.append((leaf, index, size, wrong, root_hash))
    if path:
        probes.append((leaf, index, size, path[:-1], root_hash))
    if len(path) > 1:
        probes.append((leaf, index, size, [path[0], SOME_HASH, *path[1:]], root_hash))
    return probes


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_known_inclusion_proofs_reject_tampering(index: int, size: int, path: list[str]) -> None:
    leaf = leaf_hash(CT_LEAVES[index])
    for probe in corrupted_inclusion(index, size, unhex(path), ct_root(size), leaf):
        assert not verify_inclusion(*probe), probe


def test_inclusion_edge_cases() -> None:
    leaf = leaf_hash(b"data")
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], leaf)
    for index, size in [(0, 0), (1, 0), (2, 1), (-1, 1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    with pytest.raises(ValueError):
        inclusion_proof_ranges(1, 1)
    with pytest.raises(ValueError):
        inclusion_proof_ranges(0, 0)


# ---------------------------------------------------------------------------
# Consistency proofs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second", "path"), CT_CONSISTENCY)
def test_known_consistency_proofs(first: int, second: int, path: list[str]) -> None:
    tree = ct_tree()
    expected = unhex(path)
    assert tree.consistency_proof(first, second) == expected
    assert verify_consistency(first, second, ct_root(first), ct_root(second), expected)


def corrupted_consistency(first: int, second: int, r1: bytes, r2: bytes, path: list[bytes]):
    probes = [
        (first - 1, second, r1, r2, path),
        (first + 1, second, r1, r2, path),
        (first ^ 2, second, r1, r2, path),
        (first, second * 2, r1, r2, path),
        (first, second // 2, r1, r2, path),
        (first, second, SOME_HASH, r2, path),
        (first, second, r1, SOME_HASH, path),
        (first, second, r2, r1, path),
        (first, second, r1, r2, []),
        (first, second, r1, r2, [*path, b""]),
        (first, second, r1, r2, [*path, r1]),
        (first, second, r1, r2, [*path, r2]),
        (first, second, r1, r2, [b"", *path]),
        (first, second, r1, r2, [r1, *path]),
        (first, second, r1, r2, [r2, *path]),
        (first, second, r1, r2, [path[0], *path]),
        (first, second, r1, r2, path[:-1]),
    ]
    for i in range(len(path)):
        wrong = list(path)
        wrong[i] = flip(wrong[i], 4)
        probes.append((first, second, r1, r2, wrong))
    return probes


@pytest.mark.parametrize(("first", "second", "path"), [v for v in CT_CONSISTENCY if v[2]])
def test_known_consistency_proofs_reject_tampering(first: int, second: int, path: list[str]) -> None:
    for probe in corrupted_consistency(first, second, ct_root(first), ct_root(second), unhex(path)):
        assert not verify_consistency(*probe), probe


def test_consistency_edge_cases() -> None:
    r1, r2 = leaf_hash(b"1"), leaf_hash(b"2")
    # Sizes that are always consistent.
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 1, EMPTY_ROOT, r2, [])
    assert verify_consistency(1, 1, r2, r2, [])
    # Same size, different roots; the empty tree has a fixed root.
    assert not verify_consistency(1, 1, r1, r2, [])
    assert not verify_consistency(0, 0, r1, r1, [])
    assert not verify_consistency(0, 1, r1, r2, [])
    # Time travel to the past, empty proofs, non-empty trivial proofs.
    assert not verify_consistency(1, 0, r1, r2, [])
    assert not verify_consistency(2, 1, r1, r2, [])
    assert not verify_consistency(1, 2, r1, r2, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert consistency_proof_ranges(0, 5) == []
    assert consistency_proof_ranges(5, 5) == []
    with pytest.raises(ValueError):
        consistency_proof_ranges(6, 5)


# ---------------------------------------------------------------------------
# Exhaustive small trees and cross-check with pymerkle
# ---------------------------------------------------------------------------


def test_all_proofs_of_small_trees() -> None:
    hashes = make_leaves(40, b"exhaustive")
    tree = MemoryTree(hashes)
    roots = [tree.root(n) for n in range(41)]
    for n in range(41):
        assert roots[n] == reference_mth(hashes[:n])
        for i in range(n):
            path = tree.inclusion_proof(i, n)
            assert verify_inclusion(hashes[i], i, n, path, roots[n])
            assert not verify_inclusion(hashes[i], i, n, path, roots[n - 1] if n > 1 else SOME_HASH)
        for m in range(n + 1):
            proof = tree.consistency_proof(m, n)
            assert verify_consistency(m, n, roots[m], roots[n], proof)
            if proof:
                assert not verify_consistency(m, n, roots[m], roots[n], [*proof[:-1], flip(proof[-1])])


def test_cross_check_with_pymerkle() -> None:
    size = 70
    data = [b"entry-%d" % i for i in range(size)]
    reference = InmemoryTree(algorithm="sha256")  # RFC 9162 0x00/0x01 prefixes by default
    for item in data:
        reference.append_entry(item)
    tree = MemoryTree(leaf_hash(item) for item in data)
    for i in range(size):
        assert reference.get_leaf(i + 1) == tree.leaf_hash(i)  # pymerkle counts from one
    roots = [tree.root(n) for n in range(size + 1)]
    for n in range(1, size + 1):
        assert reference.get_root(n) == roots[n]
        for i in range(n):
            # pymerkle's inclusion path is [leaf hash, *RFC 9162 PATH].
            expected = reference.prove_inclusion(i + 1, n).path
            path = tree.inclusion_proof(i, n)
            assert expected == [tree.leaf_hash(i), *path]
        for m in range(1, n + 1):
            # pymerkle encodes consistency proofs differently: check that both
            # proofs hold against the roots computed by pymerkle.
            ours = tree.consistency_proof(m, n)
            assert verify_consistency(m, n, reference.get_root(m), reference.get_root(n), ours)
            theirs = reference.prove_consistency(m, n)
            theirs.verify(roots[m], roots[n], prior_size=m, later_size=n)
    assert reference.get_root(0) == EMPTY_ROOT == tree.root(0)


def test_cross_check_with_pymerkle_larger_tree() -> None:
    size = 1500
    reference = InmemoryTree(algorithm="sha256")
    data = [b"%d" % i for i in range(size)]
    for item in data:
        reference.append_entry(item)
    tree = MemoryTree(leaf_hash(item) for item in data)
    for n in (1023, 1024, 1025, 1337, 1500):
        assert reference.get_root(n) == tree.root(n)
        for i in (0, 1, 511, 512, n // 2, n - 2, n - 1):
            assert reference.prove_inclusion(i + 1, n).path[1:] == tree.inclusion_proof(i, n)
        for m in (1, 2, 3, 511, 512, 513, 1000, n - 1):
            proof = tree.consistency_proof(m, n)
            assert verify_consistency(m, n, reference.get_root(m), reference.get_root(n), proof)


# ---------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------

_TREE = MemoryTree(make_leaves(600, b"property"))
_ROOTS = [_TREE.root(n) for n in range(_TREE.size + 1)]


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=_TREE.size))
    return draw(st.integers(min_value=0, max_value=size - 1)), size


@settings(max_examples=200, deadline=None)
@given(index_and_size(), st.data())
def test_inclusion_property(case: tuple[int, int], data: st.DataObject) -> None:
    index, size = case
    leaf = _TREE.leaf_hash(index)
    path = _TREE.inclusion_proof(index, size)
    assert verify_inclusion(leaf, index, size, path, _ROOTS[size])
    # Another leaf, another index, another size or a flipped bit must fail.
    other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index), "other")
    if size > 1:
        assert not verify_inclusion(_TREE.leaf_hash(other), index, size, path, _ROOTS[size])
        assert not verify_inclusion(leaf, other, size, path, _ROOTS[size])
    # The same path must not prove inclusion in a tree of another size.
    wrong_size = data.draw(st.integers(min_value=index + 1, max_value=_TREE.size), "wrong size")
    if wrong_size != size:
        assert not verify_inclusion(leaf, index, wrong_size, path, _ROOTS[wrong_size])
    if path:
        position = data.draw(st.integers(min_value=0, max_value=len(path) - 1), "position")
        bit = data.draw(st.integers(min_value=0, max_value=255), "bit")
        tampered = list(path)
        element = bytearray(tampered[position])
        element[bit // 8] ^= 1 << (bit % 8)
        tampered[position] = bytes(element)
        assert not verify_inclusion(leaf, index, size, tampered, _ROOTS[size])
        assert not verify_inclusion(leaf, index, size, path[:-1], _ROOTS[size])
        assert not verify_inclusion(leaf, index, size, [*path, path[-1]], _ROOTS[size])


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    second = draw(st.integers(min_value=1, max_value=_TREE.size))
    return draw(st.integers(min_value=1, max_value=second)), second


@settings(max_examples=200, deadline=None)
@given(two_sizes(), st.data())
def test_consistency_property(sizes: tuple[int, int], data: st.DataObject) -> None:
    first, second = sizes
    proof = _TREE.consistency_proof(first, second)
    assert verify_consistency(first, second, _ROOTS[first], _ROOTS[second], proof)
    if first == second:
        assert proof == []
        return
    assert proof
    other = data.draw(st.integers(min_value=1, max_value=_TREE.size).filter(lambda m: m != first), "other")
    assert not verify_consistency(other, second, _ROOTS[first], _ROOTS[second], proof)
    if other <= _TREE.size:
        assert not verify_consistency(other, second, _ROOTS[other], _ROOTS[second], proof)
    assert not verify_consistency(first, second, _ROOTS[first], _ROOTS[second - 1], proof)
    assert not verify_consistency(first, second, flip(_ROOTS[first]), _ROOTS[second], proof)
    position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), "position")
    bit = data.draw(st.integers(min_value=0, max_value=255), "bit")
    tampered = list(proof)
    element = bytearray(tampered[position])
    element[bit // 8] ^= 1 << (bit % 8)
    tampered[position] = bytes(element)
    assert not verify_consistency(first, second, _ROOTS[first], _ROOTS[second], tampered)
    assert not verify_consistency(first, second, _ROOTS[first], _ROOTS[second], proof[:-1])
    assert not verify_consistency(first, second, _ROOTS[first], _ROOTS[second], [*proof, proof[-1]])


# ---------------------------------------------------------------------------
# Compact ranges (incremental appends)
# ---------------------------------------------------------------------------


def test_compact_range_known_roots() -> None:
    compact = CompactRange()
    assert compact.root() == EMPTY_ROOT
    for size, data in enumerate(CT_LEAVES, start=1):
        compact.append(leaf_hash(data))
        assert compact.size == size
        assert compact.root().hex() == CT_ROOTS[size - 1]
        assert len(compact.border) == size.bit_count()


def test_compact_range_append_reports_new_nodes() -> None:
    compact = CompactRange()
    hashes = make_leaves(4)
    assert compact.append(hashes[0]) == [NodeHash(0, 0, hashes[0])]
    assert compact.append(hashes[1]) == [NodeHash(0, 1, hashes[1]), NodeHash(1, 0, root(hashes[:2]))]
    assert compact.append(hashes[2]) == [NodeHash(0, 2, hashes[2])]
    assert compact.append(hashes[3]) == [
        NodeHash(0, 3, hashes[3]),
        NodeHash(1, 1, root(hashes[2:4])),
        NodeHash(2, 0, root(hashes)),
    ]
    assert compact.border_nodes() == [NodeHash(2, 0, root(hashes))]
    assert compact.extend([]) == []


def test_compact_range_validation() -> None:
    with pytest.raises(ValueError):
        CompactRange(3, [SOME_HASH])
    with pytest.raises(ValueError):
        CompactRange(-1)
    with pytest.raises(ValueError):
        CompactRange(1, [b"short"])
    with pytest.raises(ValueError):
        CompactRange().append(b"short")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=70), min_size=1, max_size=8))
def test_compact_range_property(batches: list[int]) -> None:
    """Appending in arbitrary batches yields the full-tree root and exactly the stored nodes."""
    total = sum(batches)
    hashes = make_leaves(total, b"compact")
    full = MemoryTree(hashes)
    # Start from a border loaded from storage, as the ledger does.
    start = batches[0]
    compact = CompactRange.from_reader(full, start)
    assert compact.root() == full.root(start)
    stored: dict[tuple[int, int], bytes] = {}
    position = start
    for batch in batches[1:]:
        created = compact.extend(hashes[position : position + batch])
        position += batch
        assert created == sorted(created, key=lambda n: (n.level, n.index))
        for node in created:
            assert (node.level, node.index) not in stored
            stored[(node.level, node.index)] = node.hash
        assert compact.size == position
        assert compact.root() == full.root(position) == root(hashes[:position])
        assert compact.border == CompactRange.from_reader(full, position).border
    # The reported nodes are exactly the perfect subtrees completed after `start`.
    expected = {
        (level, index): full.subtree_hash(level, index)
        for level in range(total.bit_length())
        for index in range(total >> level)
        if (index + 1) << level > start
    }
    assert stored == expected


def test_compact_range_one_by_one_matches_batch() -> None:
    hashes = make_leaves(300)
    one = CompactRange()
    batch = CompactRange()
    created_one: list[NodeHash] = []
    for h in hashes:
        created_one.extend(one.append(h))
    created_batch = batch.extend(hashes)
    assert one.root() == batch.root() == root(hashes)
    assert sorted(created_one) == sorted(created_batch)
    assert len(created_batch) == 2 * len(hashes) - len(hashes).bit_count()
