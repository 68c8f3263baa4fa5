"""``results/cifar.md`` and its figures from the finished CIFAR cells.

Run through ``python benchmarks/cifar.py report``.
"""

from _common import ResultsError, report_module_run_alone, write_text_atomic

import numpy as np

from _cells import CIFAR_CELLS, read_cell, warn_of_mixed_versions
from cifar import PRESETS, measured_defaults
from openset_benchmark import make_strategy
from report import (
    _RENAMED,
    _RUN_KEYS,
    _accuracy_figure,
    _at_commit,
    _in_share_table,
    _markdown_header,
    _paired_rank_lines,
    _paired_wins_lines,
    _read_run_log,
    _table,
    _wall_time,
)
from skal_openset import CIFAR10_SPLITS, summarize_final_round

AUROC_PREFIX = "purity_auroc_"
CIFAR_RUN_KEYS = _RUN_KEYS | {"encoder_wall_seconds"}  # what preset_section reads


def load_cifar_cells(results, preset):
    """(records tagged with their cell keys, cell results, run log) of a preset."""
    folder = results / "cells" / f"cifar-{preset}"
    records, contents = [], {}
    for path in sorted(folder.glob("*.json")):
        cell = contents[path] = read_cell(
            path, layout=CIFAR_CELLS, rounds=PRESETS[preset]["rounds"]
        )
        keys = dict(cell["cell"], dataset="cifar10", trial=cell["cell"]["split"])
        keys["strategy"] = _RENAMED.get(keys["strategy"], keys["strategy"])
        keys["cell"] = f"cifar10 {int(100 * keys['noise'])}%"
        records += [{**keys, **r} for r in cell["records"]]
    warn_of_mixed_versions(folder, contents)
    log = folder / "_runs.jsonl"
    runs = _read_run_log(log, CIFAR_RUN_KEYS) if log.exists() else []
    return records, list(contents.values()), runs


def _auroc_lines(records):
    """Per noise ratio: mean AUROC over splits of every purity score, per round."""
    rows = [r for r in records if any(k.startswith(AUROC_PREFIX) for k in r)]
    if not rows:
        return []
    scores = [
        k.removeprefix(AUROC_PREFIX) for k in rows[0] if k.startswith(AUROC_PREFIX)
    ]
    lines = [
        "### Purity AUROC (IN vs OOD) on the unlabelled pool, per round",
        "",
        "Measured in the MQ-Net cells on a fixed random sample of 1,000 pool images "
        "less the labelled ones; mean over the splits. `encoder`: max cosine "
        "similarity to the labelled IN images in the contrastive encoder's space; "
        "`encoder_ood`: the distance to the nearest labelled OOD image minus that "
        "to the nearest labelled IN one, in the same space; "
        "the others use the target classifier (its features or its outputs). Best "
        "per round in bold.",
        "",
    ]
    for noise in sorted({r["noise"] for r in rows}):
        lines += [
            f"Noise {int(100 * noise)}%:",
            "",
            *_markdown_header("round", scores),
        ]
        for round_ in sorted({r["round"] for r in rows}):
            at = [r for r in rows if r["noise"] == noise and r["round"] == round_]
            means = [np.nanmean([r[AUROC_PREFIX + s] for r in at]) for s in scores]
            best = np.nanmax(means)
            cells = [f"**{m:.3f}**" if m == best else f"{m:.3f}" for m in means]
            lines.append(f"| {round_} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def preset_section(results, preset):
    """Markdown lines and figure paths of one preset; empty if it has no cells."""
    records, cells, runs = load_cifar_cells(results, preset)
    if not records:
        return [], []
    config = PRESETS[preset]
    suite = f"cifar-{preset}"
    strategies = [
        s for s in config["strategies"] if any(r["strategy"] == s for r in records)
    ]
    rows = summarize_final_round(records, group_keys=("cell", "strategy"))
    rows.sort(key=lambda r: int(r["cell"].split()[1][:-1]))
    split_rows = summarize_final_round(
        [
            {
                **r,
                "cell": f"{list(CIFAR10_SPLITS[r['split']])} {int(100 * r['noise'])}%",
            }
            for r in records
        ],
        group_keys=("cell", "strategy"),
    )
    n_pool = sorted({c["n_pool"] for c in cells})
    encoder_s = [c["encoder_seconds"] for c in cells]
    encoder_epochs = [c["encoder_epochs"] for c in cells]
    lines = [
        f"## Preset `{preset}`",
        "",
        "CIFAR-10 (JPEG copy). Splits "
        f"{[list(CIFAR10_SPLITS[s]) for s in config['splits']]}"
        f" (one trial each, seeded by the split index"
        + (f" plus {config['seed_offset']}" if config.get("seed_offset") else "")
        + f"), budget {config['budget']} per round, "
        f"{config['rounds']} rounds, pool sizes {n_pool[0]}-{n_pool[-1]} "
        f"(training subsample: {config['pool_size'] or 'all'}), "
        f"{cells[0]['n_test']} IN test images, target net "
        f"`make_fast_resnet_classifier(**{config['net']})`, encoder "
        f"`ContrastiveEncoder(**{config['encoder']})` fitted in "
        f"{np.mean(encoder_s):.0f} s ({np.mean(encoder_epochs):.2f} epochs) "
        "on average, "
        f"device `{cells[0]['device']}`.",
        "",
    ]
    for run in runs:
        lines.append(
            f"Run: `{run['command']}`: {run['ran']} of {run['cells']} cells in "
            f"{_wall_time(run['wall_seconds'])} "
            f"(encoders {run['encoder_wall_seconds']:.0f} s)"
            f" on {run['machine']}, {run['date']}{_at_commit(run)}."
        )
    lines += [
        "",
        "Final-round test accuracy (%), mean +- std over the splits (population "
        "std, ddof=0); best mean "
        "in bold.",
        "",
        *_table(rows, "cell", "strategy", strategies),
        "",
        "Per split:",
        "",
        *_table(split_rows, "cell", "strategy", strategies, by_row=True),
        "",
        "IN share of all queried examples:",
        "",
        *_in_share_table(rows, "cell", strategies),
        "",
        *_paired_rank_lines(records, strategies),
        *_auroc_lines(records),
    ]
    # The figure is read apart from this text: each MQ-Net column says which
    # of the defaults of its time it ran, not today's.
    names = {}
    for strategy in strategies:
        if measured := measured_defaults(preset, make_strategy(strategy, 0)):
            settings = ", ".join(f"{key}={value!r}" for key, value in measured.items())
            names[strategy] = f"{strategy}: {settings}"
    figure = _accuracy_figure(results, suite, records, names)
    lines += [f"![learning curves]({figure.name})", ""]
    return lines, [figure]


def starts_section(results):
    """The selector started from the rule (the defaults) against its random start
    and the rule, preset by preset and pooled over presets."""
    records = []
    for preset in PRESETS:
        for r in load_cifar_cells(results, preset)[0]:
            # The validation presets pinned today's defaults under this name.
            if r["strategy"] == "MQ-Net (started from the rule)":
                r["strategy"] = "MQ-Net"
            records.append(dict(r, preset=preset))
    presets = sorted({r["preset"] for r in records})
    unreported = [p for p in presets if PRESETS[p].get("seed_offset")]
    pools = [("unreported presets, pooled", unreported), ("all, pooled", presets)]
    lines = _paired_wins_lines(
        records,
        ("MQ-Net (learnt meta-model)", "MQ-Net (no meta-model)"),
        "preset",
        "`MQ-Net` (the selector started from the rule; `MQ-Net (started from the "
        "rule)` in the validation presets) against its random start and the rule "
        "on the same (split, noise) runs: wins / ties / losses of the final "
        "accuracy over the runs, and the mean difference (points) with its 95% "
        "paired-t interval over class splits (each split's runs averaged first, "
        "since they share its difficulty). The pooled rows mix presets of other "
        "protocols (the GPU lease's budget and rounds) and cells run before and "
        "after the encoder's fix (FINDINGS.md), so they pool evidence across "
        "setups, not runs of one:",
        pools=pools if len(presets) > 1 else [],
    )
    return ["## The selector's two starts, every preset", "", *lines] if lines else []


def write_cifar_report(results):
    """Write ``results/cifar.md`` for every preset with cells; return its path.

    A ResultsError naming `results` if no preset has cells there.
    """
    pinned = ", ".join(f"`{p}`" for p, c in PRESETS.items() if "mqnet_defaults" in c)
    lines = [
        "# CIFAR-10 open-set active learning",
        "",
        "Written by `python benchmarks/cifar.py report` from the cells under "
        f"`results/cells/cifar-*`. In the presets {pinned}, the MQ-Net columns "
        "except the paper presets rank by least confidence "
        '(`informativeness="least_confidence"`) and those that leave the rule '
        "weight at the default by the learnt selector alone (`rule_weight=0`), "
        "the library's defaults when their cells ran; the other presets run "
        'today\'s defaults, margin and `rule_weight="auto"` since 2026-12-02.',
        "",
    ]
    sections = [preset_section(results, preset)[0] for preset in PRESETS]
    if not any(sections):  # else a header-only report, or a missing folder's traceback
        raise ResultsError(
            f"{results} holds no CIFAR cells (cells/cifar-<preset>/*.json); pass "
            "--results-dir with the folder that holds them, or run a preset first"
        )
    for section in sections:
        lines += section
    lines += starts_section(results)
    path = results / "cifar.md"
    write_text_atomic(path, "\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    # A module of cifar.py: run alone it writes nothing, exit status 1.
    report_module_run_alone("python benchmarks/cifar.py report")
