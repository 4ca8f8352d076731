"""The benchmark's laptop workload in its quick form: today's path and the fast path in one run,
their ratio, and fractions of the fp32 and bf16 GEMM peaks measured in the same run.
Structure and ranges only: no speed is asserted (the machine is shared)."""

from __future__ import annotations

import json

import pytest

from earlyphase.bench.__main__ import main
from earlyphase.bench.gemm_peak import gemm_peak
from earlyphase.bench.laptop import default_fast_spec
from earlyphase.bench.report import render
from earlyphase.training.cpu_bf16 import bf16_support


def test_laptop_quick_form_reports_both_paths_ratio_and_measured_peaks(tmp_path):
    out = tmp_path / "laptop.json"
    result = main(["--laptop", "--quick", "--batch-size", "8", "--threads", "1", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result))
    laptop = saved["laptop"]
    assert (laptop["workload"], laptop["input_shape"], laptop["width"]) == ("resnet18-mnist", [1, 28, 28], 0.125)
    assert laptop["batch_size"] == 8 and laptop["optimizer"]["optimizer"] == "adamw"
    assert laptop["flops_per_step"] > 0
    assert set(laptop["peaks"]) == {"fp32", "bf16"}
    assert all(peak["gflops"] > 0 and peak["calls"] >= 2 for peak in laptop["peaks"].values())
    today, fast = laptop["paths"]["today"], laptop["paths"]["fast"]
    assert (today["precision"], today["channels_last"]) == ("fp32", False)
    assert fast["channels_last"] is True
    assert fast["precision"] == ("bf16" if laptop["cpu_bf16"]["native"] else "fp32")
    for path in (today, fast):
        assert path["images_per_s"] == pytest.approx(8 / path["seconds_per_step"])
        assert 0 < path["fraction_of_own_peak"] <= 1.5
        assert path["fraction_of_own_peak"] == path["fraction_of_peak"][path["precision"]]
        assert all(fraction > 0 for fraction in path["fraction_of_peak"].values())
    assert laptop["ratio"] == pytest.approx(fast["images_per_s"] / today["images_per_s"])
    assert laptop["ratio"] > 0
    text = render(saved)
    assert "fp32" in text and "bf16" in text and "channels_last" in text and "ratio" in text


def test_the_default_fast_path_uses_bf16_only_where_it_is_native():
    spec = default_fast_spec()
    assert spec["channels_last"] is True
    assert spec["precision"] == ("bf16" if bf16_support()["native"] else "fp32")


def test_gemm_peak_refuses_an_unknown_precision():
    with pytest.raises(ValueError, match="fp16"):
        gemm_peak("fp16", 8, 0.0)
