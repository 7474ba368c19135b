#!/usr/bin/env python3
"""Recompute a level's published figures from the log's tlog-tiles.

An independent check of PromiseLedger's numbers, written without any of
the project's code and with Python's standard library only. It

  1. reads the latest checkpoint (/v1/audit/tlog/checkpoint, C2SP signed
     note), downloads every entry bundle (/v1/audit/tlog/tile/entries/N,
     the last one partial) and recomputes the RFC 6962 root of the
     entries: it must equal the checkpoint's root hash. (It does not check
     the note's Ed25519 signature, which the standard library cannot:
     `ledger verify` or any tlog-tiles client does.)
  2. takes the first N entries, N the checkpoint given (default: the
     latest), decodes each leaf (docs/audit.md) and folds every measure by
     the rules of docs/methodology.md, computing share-done and
     weighted-progress of the level exactly (fractions), rounding each
     measure's weight x completion half to even to 6 places and each
     percent half to even to 2;
  3. asks /v1/figures?scope=level&id=LEVEL&checkpoint=N and compares every
     number digit for digit, and the root hash it names with the root of
     the first N entries.

Exit status: 0 when everything matches, 1 on a mismatch (a figure, or the
entries not hashing to the signed root), 2 when it cannot run (the server
unreachable, a malformed answer).

    python3 recompute.py --url http://127.0.0.1:8080 --level regional
"""

import argparse
import base64
import hashlib
import json
import re
import sys
import urllib.parse
import urllib.request
from fractions import Fraction

def get(base, path, params=None):
    url = base.rstrip("/") + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def exact_json(raw):
    """JSON with every non-integer number as an exact decimal fraction."""
    return json.loads(raw, parse_float=Fraction)


TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def instant_ns(s):
    """An RFC 3339 time as nanoseconds since 1970, comparable exactly."""
    import datetime

    m = TIME.match(s)
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % s)
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    whole = datetime.datetime.fromisoformat(m.group(1) + zone)
    frac = (m.group(2) or ".")[1:]
    ns = int((frac + "000000000")[:9]) if frac else 0
    return int(whole.timestamp()) * 1_000_000_000 + ns


class Measure:
    """One indicator, folded the way docs/methodology.md states."""

    def __init__(self, d):
        self.roadmap = d["roadmap_id"]
        self.kind = d["kind"]
        self.baseline = d.get("baseline")
        self.target = d.get("target")
        self.added_target = self.target
        self.direction = d.get("direction") or "increase"
        self.weight = d.get("weight") or 1
        self.reports = []  # dicts: id, value, done, as_of, corrected_by
        self.steps = []  # ("report", i) | ("retarget", t) | ("status", s) | ("cancel",)
        self.status = "not_started"
        self.latest = None

    def index(self, rid):
        for i, r in enumerate(self.reports):
            if r["id"] == rid:
                return i
        return -1

    def apply(self, typ, d):
        if typ == "indicator.progress_reported.v1":
            self.reports.append({"id": d["report_id"], "value": d.get("value"), "done": bool(d.get("done")),
                                 "as_of": instant_ns(d["as_of"]), "corrected_by": None})
            self.steps.append(("report", len(self.reports) - 1))
        elif typ == "indicator.report_corrected.v1":
            i = self.index(d["corrects"])
            if i < 0:
                return
            self.reports[i]["corrected_by"] = d["report_id"]
            self.reports.append({"id": d["report_id"], "value": d.get("value"), "done": bool(d.get("done")),
                                 "as_of": self.reports[i]["as_of"], "corrected_by": None})
        elif typ == "indicator.retargeted.v1":
            if d.get("target") is not None:
                self.target = d["target"]
                self.steps.append(("retarget", self.target))
            if d.get("weight") is not None:
                self.weight = d["weight"]
        elif typ == "indicator.status_changed.v1":
            self.steps.append(("status", d["to"]))
        elif typ == "indicator.cancelled.v1":
            self.steps.append(("cancel",))
        else:
            return
        self.settle()

    def current(self, i):
        while self.reports[i]["corrected_by"] is not None:
            j = self.index(self.reports[i]["corrected_by"])
            if j <= i:
                break
            i = j
        return self.reports[i]

    def reaches(self, r, target):
        if self.kind == "milestone":
            return r["done"]
        if r["value"] is None or target is None:
            return False
        if self.direction == "decrease":
            return r["value"] <= target
        return r["value"] >= target

    def settle(self):
        status, target, latest = "not_started", self.added_target, -1
        for st in self.steps:
            if st[0] == "report":
                i = st[1]
                if latest < 0 or not self.reports[i]["as_of"] < self.reports[latest]["as_of"]:
                    latest = i
                if status == "not_started":
                    status = "in_progress"
                if self.reaches(self.current(latest), target):
                    status = "done"
            elif st[0] == "retarget":
                target = st[1]
                if status == "in_progress" and latest >= 0 and self.reaches(self.current(latest), target):
                    status = "done"
            elif st[0] == "status":
                status = st[1]
            elif st[0] == "cancel":
                status = "cancelled"
        self.status = status
        self.latest = self.current(latest) if latest >= 0 else None

    def completion(self):
        if self.status == "done":
            return Fraction(1)
        if self.status == "cancelled" or self.kind != "numeric":
            return Fraction(0)
        v = self.latest["value"] if self.latest else None
        b, t = self.baseline, self.target
        if v is None or b is None or t is None or t == b:
            return Fraction(0)
        return min(max(Fraction(v - b) / Fraction(t - b), Fraction(0)), Fraction(1))


def micro(x):
    """Half to even, to 6 places, as an integer count of millionths."""
    return round(Fraction(x) * 1_000_000)


def percent(num, den):
    """100 x num / den, exactly, rounded half to even to 2 places."""
    return None if den == 0 else round(Fraction(100) * num / den, 2)


TILE_WIDTH = 256  # entries per full C2SP tlog-tiles entry bundle
LEAF_PREFIX = b"promiseledger-leaf-v1\n"


class RootMismatch(Exception):
    """The served entries do not hash to the signed root."""


def read_checkpoint(base):
    """The latest checkpoint, C2SP signed-note form: origin, tree size,
    base64 root hash, then a blank line and the signatures."""
    note = get(base, "/v1/audit/tlog/checkpoint").decode()
    body, _, _ = note.partition("\n\n")
    lines = body.split("\n")
    if len(lines) < 3 or not lines[1].isdigit():
        raise ValueError("not a C2SP checkpoint: %r" % note[:200])
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise ValueError("checkpoint root hash is %d bytes, want 32" % len(root))
    return lines[0], int(lines[1]), root


def tile_index(n):
    """N in the tlog-tiles path form: groups of three digits, all but the
    last prefixed with x (1234 -> x001/234)."""
    s = "%03d" % (n % 1000)
    n //= 1000
    while n > 0:
        s = "x%03d/%s" % (n % 1000, s)
        n //= 1000
    return s


def entries(base, size):
    """The exact bytes of leaves 0 .. size-1, from the entry bundles: each
    bundle is a run of (2-byte big-endian length, entry bytes)."""
    out = []
    for n in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - n * TILE_WIDTH)
        path = "/v1/audit/tlog/tile/entries/" + tile_index(n)
        if width < TILE_WIDTH:
            path += ".p/%d" % width
        raw = get(base, path)
        i, got = 0, 0
        while i < len(raw):
            if i + 2 > len(raw):
                raise ValueError("%s: an entry length is cut short" % path)
            k = int.from_bytes(raw[i:i + 2], "big")
            if i + 2 + k > len(raw):
                raise ValueError("%s: an entry is cut short" % path)
            out.append(raw[i + 2:i + 2 + k])
            i += 2 + k
            got += 1
        if got != width:
            raise ValueError("%s: %d entries, want %d" % (path, got, width))
    return out


def leaf_hash(b):
    return hashlib.sha256(b"\x00" + b).digest()


def tree_root(hashes):
    """RFC 6962 Merkle tree hash of the given leaf hashes: split at the
    largest power of two less than n."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + tree_root(hashes[:k]) + tree_root(hashes[k:])).digest()


def decode_leaf(b):
    """A leaf's fields (docs/audit.md): the prefix, then stream, version,
    type, data, metadata, event id, stored at, each as a 4-byte big-endian
    length and the bytes."""
    if not b.startswith(LEAF_PREFIX):
        raise ValueError("a leaf without the promiseledger-leaf-v1 prefix")
    i, fields = len(LEAF_PREFIX), []
    for _ in range(7):
        if i + 4 > len(b):
            raise ValueError("a leaf field is cut short")
        k = int.from_bytes(b[i:i + 4], "big")
        if i + 4 + k > len(b):
            raise ValueError("a leaf field is cut short")
        fields.append(b[i + 4:i + 4 + k])
        i += 4 + k
    if i != len(b):
        raise ValueError("bytes after a leaf's last field")
    return {"stream": fields[0].decode(), "type": fields[2].decode(), "data": fields[3]}


def read_log(base):
    """Every leaf of the latest checkpoint, checked against its root hash.
    Returns (tree size, leaf bytes, leaf hashes)."""
    _, size, root = read_checkpoint(base)
    leaves = entries(base, size)
    hashes = [leaf_hash(b) for b in leaves]
    mine = tree_root(hashes)
    if mine != root:
        raise RootMismatch("the entries of tree size %d hash to %s, the checkpoint states %s"
                           % (size, base64.b64encode(mine).decode(), base64.b64encode(root).decode()))
    return size, leaves, hashes


def recompute(leaves, size, level):
    """The level's figures from leaves 0 .. size-1 only."""
    levels, measures = {}, {}
    for b in leaves[:size]:
        ev = decode_leaf(b)
        typ, stream = ev["type"], ev["stream"]
        if not (typ == "roadmap.registered.v1" or stream.startswith("indicator-")):
            continue
        data = exact_json(ev["data"] or b"{}")
        if typ == "roadmap.registered.v1":
            levels[data["roadmap_id"]] = data["level"]
        elif typ == "indicator.added.v1":
            measures[stream] = Measure(data)
        elif stream in measures:
            measures[stream].apply(typ, data)
    roadmaps = [r for r, lv in levels.items() if lv == level]
    n = d = c = 0
    weight = weighted = 0
    for m in measures.values():
        if levels.get(m.roadmap) != level:
            continue
        if m.status == "cancelled":
            c += 1
            continue
        n += 1
        d += m.status == "done"
        weight += micro(m.weight)
        weighted += micro(Fraction(m.weight) * m.completion())
    return {
        "share-done": {"numerator": Fraction(d), "denominator": Fraction(n), "percent": percent(d, n)},
        "weighted-progress": {"numerator": Fraction(weighted, 1_000_000), "denominator": Fraction(weight, 1_000_000),
                              "percent": percent(weighted, weight)},
        "_counts": {"roadmaps": len(roadmaps), "measures": n, "done": d, "cancelled": c},
    }


def show(x):
    if x is None:
        return "null"
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else repr(float(x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    ap.add_argument("--level", required=True, choices=["republican", "regional"])
    ap.add_argument("--checkpoint", type=int, help="a signed checkpoint's tree size (default: the latest)")
    a = ap.parse_args()
    try:
        try:
            latest, leaves, hashes = read_log(a.url)
        except RootMismatch as e:
            print("log root MISMATCH: %s" % e)
            print("MISMATCH")
            return 1
        size = latest if a.checkpoint is None else a.checkpoint
        if not 0 < size <= latest:
            raise ValueError("checkpoint %d is not within the latest tree size %d" % (size, latest))
        root = base64.b64encode(tree_root(hashes[:size])).decode()
        mine = recompute(leaves, size, a.level)
        theirs = exact_json(get(a.url, "/v1/figures", {"scope": "level", "id": a.level, "checkpoint": size}))
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as e:
        print("cannot check: %s" % e, file=sys.stderr)
        return 2
    bad = 0
    print("log: %d entries from the tiles hash to the latest checkpoint's root: ok" % latest)
    print("level %s at checkpoint %d (leaves 0..%d, root %s)" % (a.level, size, size - 1, root))
    for f in theirs["figures"]:
        want = mine[f["method"]]
        for k in ("numerator", "denominator", "percent"):
            got = f[k] if f[k] is None else Fraction(f[k])
            ok = got == want[k]
            bad += not ok
            print("  %-18s %-12s recomputed %-14s published %-14s %s" % (f["method"], k, show(want[k]), show(got), "ok" if ok else "MISMATCH"))
        for k, v in mine["_counts"].items():
            if f[k] != v:
                bad += 1
                print("  %-18s %-12s recomputed %-14s published %-14s MISMATCH" % (f["method"], k, v, f[k]))
    prov = theirs.get("provenance", {})
    cp = prov.get("checkpoint") or {}
    if prov.get("basis") != "checkpoint" or cp.get("tree_size") != size:
        bad += 1
        print("  provenance names %s checkpoint %s, want checkpoint %d: MISMATCH" % (prov.get("basis"), cp.get("tree_size"), size))
    if cp.get("root_hash") != root:
        bad += 1
        print("  provenance root hash %s, the first %d entries hash to %s: MISMATCH" % (cp.get("root_hash"), size, root))
    print("MISMATCH" if bad else "match")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
