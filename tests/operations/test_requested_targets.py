"""The targets a snakemake command line asks for, and the message for those no rule makes."""

from __future__ import annotations

from earlyphase.operations.requested_targets import command_line_targets, unknown_targets_message


def test_targets_are_read_as_snakemake_reads_them():
    assert command_line_targets(["snakemake", "-n", "figures/table1.tex", "--configfile", "c.yaml"]) == [
        "figures/table1.tex"]
    # --configfile takes every name after it: no target at all.
    assert command_line_targets(["snakemake", "--configfile", "c.yaml", "figures/table1.tex"]) == []
    assert command_line_targets(["/x/lib/python3.11/site-packages/snakemake/__main__.py", "all"]) == ["all"]


def test_outside_the_snakemake_command_nothing_is_read():
    assert command_line_targets(["/usr/bin/pytest", "figures/table1.tex"]) == []
    assert command_line_targets([]) == []


def test_a_misspelled_target_gets_the_nearest_valid_ones():
    message = unknown_targets_message(["figures/tabel1.tex"], ["figures/table1.tex", "figures/table2.tex", "all"], {})
    assert "figures/tabel1.tex: no rule makes it here; nearest valid targets: figures/table1.tex, figures/table2.tex" \
        in message
    far = unknown_targets_message(["zzz"], ["figures/table1.tex"], {})
    assert "zzz: no rule makes it here; no valid target is close" in far


def test_a_target_of_a_preset_names_the_preset_and_the_command():
    presets = {"": ["figures/table1.tex"], "config/laptop.yaml": ["figures/laptop/table1.tex"],
               "config/smoke.yaml": ["figures/table1.tex"]}
    message = unknown_targets_message(["figures/laptop/table1.tex", "figures/laptop/tabel1.tex"], ["all"], presets)
    assert ("figures/laptop/table1.tex: made with config/laptop.yaml; "
            "run `snakemake figures/laptop/table1.tex --configfile config/laptop.yaml`") in message
    assert ("nearest valid targets: figures/laptop/table1.tex "
            "(`snakemake figures/laptop/table1.tex --configfile config/laptop.yaml`)") in message


def test_a_target_of_params_yaml_alone_asked_for_under_a_preset_says_so():
    presets = {"": ["figures/table1.tex"], "config/smoke.yaml": ["figures/table1.tex"]}
    message = unknown_targets_message(["figures/table1.tex"], ["figures/laptop/table1.tex"], presets)
    assert ("figures/table1.tex: made with params.yaml alone (no --configfile) or config/smoke.yaml; "
            "run `snakemake figures/table1.tex`") in message
