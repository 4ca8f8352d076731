import numpy as np
import pandas as pd

from earlyphase.phase_diagram import uv_model as uv
from earlyphase.report import phase_diagram_figures as pf


def test_uv_figure_and_table(tmp_path):
    df = uv.run_uv_phase_diagram(widths=[4, 64], cs=uv.c_grid(0, 3, 0.1), n_inits=10, steps=30)
    paths = pf.plot_uv_phase_diagram(df, str(tmp_path / "uv"))
    assert [p[-3:] for p in paths] == ["pdf", "png"]
    assert all((tmp_path / f"uv.{e}").stat().st_size > 1000 for e in ("pdf", "png"))
    t = pf.critical_constants_table(df, variant="hessian")
    assert list(t["width"]) == [4, 64]
    sub = df[(df.variant == "hessian") & (df.width == 4)]
    assert np.isclose(t.loc[0, "c_loss_mean"], sub["c_loss"].mean())


def test_fcn_figures(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for width in (64, 256):
        for depth in (2, 4):
            for seed in range(3):
                cl = 2 + 4 * depth / width + 0.1 * rng.random()
                rows.append(
                    dict(
                        width=width,
                        depth=depth,
                        parameterization="sp",
                        seed=seed,
                        c_loss=cl,
                        c_sharp=cl + 0.5,
                        c_max=4.5,
                        c_max_censored=False,
                        lambda0=1.0,
                    )
                )
    crit = pd.DataFrame(rows)
    for x in ("width", "depth"):
        pf.plot_fcn_phase_diagram(crit, str(tmp_path / f"fcn_{x}"), x=x, dataset="random")
        assert (tmp_path / f"fcn_{x}.png").exists() and (tmp_path / f"fcn_{x}.pdf").exists()


def test_fcn_figure_without_c_sharp_draws_one_catapult_band(tmp_path):
    crit = pd.DataFrame([dict(width=w, depth=2, parameterization="sp", seed=s, c_loss=2.0 + s, c_sharp=np.nan,
                              c_max=8.0, c_max_censored=False, lambda0=1.0) for w in (64, 256) for s in range(2)])
    table = pf.average_critical_constants(crit, by=["width"])
    curves, phases = pf._curves_and_phases(table)
    assert [key for key, _, _ in curves] == ["c_loss", "c_max"]
    assert [name for name, _ in phases] == ["sharpness reduction", "catapult (sharpness not measured)", "divergent"]
    pf.plot_fcn_phase_diagram(crit, str(tmp_path / "pd"))
    assert (tmp_path / "pd.png").stat().st_size > 1000


def test_uv_reference_sits_at_the_fcn_depth_to_width_ratio_and_tends_to_the_wide_limit():
    crit = pd.DataFrame([dict(width=w, depth=d) for d in (2, 8) for w in (64, 4096)])
    ref = pf.uv_reference(crit, steps=10).set_index(["depth", "width"])
    assert ref.loc[(2, 64), "uv_width"] == 64 and ref.loc[(8, 64), "uv_width"] == 16
    assert ref.loc[(8, 4096), "uv_width"] == 1024
    # wide two-layer linear network: the NTK barely moves, so the loss catapults at c = 2 and diverges past 4
    # (to one step of the c grid, 2^0.02: 2.028 is the first grid point above 2)
    assert abs(ref.loc[(2, 4096), "uv_c_loss"] - 2) < 0.03 and abs(ref.loc[(2, 4096), "uv_c_max"] - 4) < 0.05
    # a larger depth-to-width ratio raises c_loss, as in the paper's FCNs
    assert ref.loc[(8, 64), "uv_c_loss"] > ref.loc[(2, 64), "uv_c_loss"] > ref.loc[(2, 4096), "uv_c_loss"]
    assert len(ref) == 4


def test_fcn_figure_draws_the_uv_model_on_every_panel(tmp_path, monkeypatch):
    crit = pd.DataFrame([dict(width=w, depth=d, parameterization="sp", seed=s, c_loss=2.5, c_sharp=np.nan,
                              c_max=5.0, c_max_censored=False, lambda0=1.0)
                         for w in (64, 256) for d in (2, 4) for s in range(2)])
    drawn = []
    monkeypatch.setattr(pf, "_draw_uv_reference", lambda ax, ref, x: drawn.append(sorted(ref[x])))
    pf.plot_fcn_phase_diagram(crit, str(tmp_path / "pd"), uv=pf.uv_reference(crit, steps=10))
    assert drawn == [[64, 256], [64, 256]]
