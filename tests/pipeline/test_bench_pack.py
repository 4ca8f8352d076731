"""``python -m earlyphase.bench --pack K`` on a CPU: K concurrent training processes, their
aggregate images/s, the ratios against K = 1 and the plain reference of the same
invocation, and a clean fallback of ``--cuda-graphs`` off CUDA (no speed is asserted)."""

from __future__ import annotations

import argparse
import json

import pytest

from earlyphase.bench.__main__ import _pack_sizes, main


def test_pack_of_two_reports_an_aggregate_against_k1_and_the_reference(tmp_path):
    out, reference = tmp_path / "pack.json", tmp_path / "throughput_reference.json"
    result = main(["--device", "cpu", "--workloads", "simple_cnn-cifar", "--pack", "2", "--steps", "3",
                   "--warmup", "1", "--batch-size", "8", "--width", "0.125", "--threads", "1",
                   "--cuda-graphs", "--out", str(out), "--reference-file", str(reference)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert result["training"] == [] and result["probes"] == []  # --pack measures packs only
    one, two = result["pack"]
    assert (one["k"], two["k"]) == (1, 2) and len(two["per_run_images_per_s"]) == 2
    for row in (one, two):
        assert row["workload"] == "simple_cnn-cifar" and row["images_per_s"] > 0 and row["seconds"] > 0
        # Both ratios come from numbers measured in this invocation.
        assert row["ratio_vs_k1"] == pytest.approx(row["images_per_s"] / one["images_per_s"])
        reference_rate = one["images_per_s"] / one["ratio_vs_reference"]
        assert row["ratio_vs_reference"] == pytest.approx(row["images_per_s"] / reference_rate)
    assert one["ratio_vs_k1"] == 1.0
    fast = two["fast"]  # what each member ran: the graph request fell back to eager, with why
    assert fast["cuda_graphs"] is False and "CUDA device" in fast["cuda_graphs_disabled_because"]
    (entry,) = json.loads(reference.read_text())["measurements"]
    assert [(r["arch"], r["k"]) for r in entry["pack"]] == [("simple_cnn", 1), ("simple_cnn", 2)]
    assert entry["pack"][1]["ratio_vs_k1"] == two["ratio_vs_k1"]


def test_pack_sizes_always_include_one_and_reject_nonsense():
    assert _pack_sizes("4,2") == [1, 2, 4] and _pack_sizes("1") == [1]
    for bad in ("0", "two", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            _pack_sizes(bad)


def test_a_member_that_dies_fails_the_pack_at_once(monkeypatch):
    import os
    import time

    from earlyphase.bench import pack

    def dying_member(index, spec, ready, start, results):
        if index == 1:
            os._exit(9)  # as a member killed by the OOM killer: no report, no exception
        ready.put((index, time.monotonic()))
        start.wait()
        results.put({"index": index, "begin": 0.0, "end": 1.0, "images": 1, "fast": {}})

    monkeypatch.setattr(pack, "_member", dying_member)  # CPU packs fork: the children run it
    monkeypatch.setattr(pack, "HANG_GUARD_S", 600)
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="member 1 exited with code 9 before it reported ready"):
        pack.pack_throughput(2, {"device": "cpu"})
    assert time.monotonic() - began < 120  # not the hang guard (600 s here)
