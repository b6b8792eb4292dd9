"""Draw the distribution of a split by grab position as a PNG (the published fairness chart)."""

from __future__ import annotations

import importlib.util
import pathlib

from hongbao.domain.fairness import PositionStats


def plot_available() -> bool:
    """Whether matplotlib is installed: it is the optional extra `hongbao[plot]` (~140 MB the server never needs)."""
    return importlib.util.find_spec("matplotlib") is not None


def plot_fairness(stats: list[PositionStats], title: str, path: pathlib.Path) -> None:
    """Save two panels to `path`: mean ± stdev by position, and best-luck probability by position.

    Matplotlib's default font (DejaVu Sans) has no CJK glyphs, so labels are in English; a title
    with Chinese characters draws boxes and warns.
    """
    import matplotlib

    # Agg before pyplot is imported: no display, no GUI toolkit, safe in servers and CI.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positions = [s.position for s in stats]
    fig, (amounts, luck) = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    try:
        amounts.errorbar(
            positions,
            [s.mean_fen for s in stats],
            yerr=[s.stdev_fen for s in stats],
            fmt="o",
            markersize=5 if len(stats) <= 20 else 2,
            capsize=3 if len(stats) <= 20 else 0,
            color="#c62828",
        )
        amounts.set_xlabel("grab position")
        amounts.set_ylabel("amount (fen)")
        amounts.set_title("mean ± stdev")
        # Zero at the bottom so positions compare by height; headroom so a flat series stays visible.
        amounts.set_ylim(0, max([s.mean_fen + s.stdev_fen for s in stats], default=0.0) * 1.1 or 1.0)

        probabilities = [s.best_luck_probability for s in stats]
        luck.bar(positions, probabilities, color="#f9a825")
        if stats:
            # The level every position would have if no position were favoured.
            luck.axhline(1 / len(stats), color="grey", linestyle="--", linewidth=1, label="1 / shares")
            luck.legend(loc="upper right")
        luck.set_xlabel("grab position")
        luck.set_ylabel("probability")
        luck.set_title("best luck (biggest share)")
        luck.set_ylim(0, min(1.0, max([*probabilities, 1 / max(1, len(stats))]) * 1.25))

        for ax in (amounts, luck):
            ax.set_xticks(positions if len(positions) <= 20 else positions[:: max(1, len(positions) // 20)])
        fig.suptitle(title)
        fig.savefig(path, format="png", dpi=100)
    finally:
        plt.close(fig)
