"""Benchmark report: report.md and a self-contained report.html with embedded plots."""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

HEADLINE = [
    ("retrieval.recall@1", "recall@1"),
    ("retrieval.recall@5", "recall@5"),
    ("retrieval.recall@10", "recall@10"),
    ("retrieval.mrr@10", "MRR@10"),
    ("retrieval.ndcg@10", "nDCG@10"),
    ("answer.token_f1", "token F1"),
    ("answer.answer_recall", "answer recall"),
    ("citations.precision", "citation P"),
    ("citations.recall", "citation R"),
    ("abstention.precision", "abstain P"),
    ("abstention.recall", "abstain R"),
    ("latency_ms.p50", "p50 ms"),
    ("latency_ms.p95", "p95 ms"),
]


def _table(runs) -> list[str]:
    head = "| configuration | " + " | ".join(label for _, label in HEADLINE) + " |"
    rows = [head, "|" + "---|" * (len(HEADLINE) + 1)]
    for metrics, _ in runs:
        cells = [f"{metrics[k]:.3f}" if "latency" not in k else f"{metrics[k]:.0f}" for k, _ in HEADLINE]
        rows.append(f"| {metrics['config']['name']} | " + " | ".join(cells) + " |")
    return rows


def _per_kind(results) -> dict[str, dict[str, float]]:
    groups = defaultdict(list)
    for r in results:
        groups[r.kind].append(r)
    out = {}
    for kind, rs in sorted(groups.items()):
        ans = [r for r in rs if r.gold_answerable]
        out[kind] = {
            "n": len(rs),
            "recall@5": sum(r.recall_at["5"] for r in ans) / len(ans) if ans else float("nan"),
            "answer recall": sum(r.answer_recall or 0 for r in ans) / len(ans) if ans else float("nan"),
            "correct abstention": sum(r.answerable == r.gold_answerable for r in rs) / len(rs),
        }
    return out


def _worst(results, n: int = 10):
    def badness(r) -> tuple:
        return (len(r.failures), -(r.first_relevant_rank or 99) * -1)

    return sorted([r for r in results if r.failures], key=badness, reverse=True)[:n]


def _plots(runs) -> dict[str, str]:
    """PNG plots as base64 strings; empty when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    images = {}

    def save(fig) -> str:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        return base64.b64encode(buf.getvalue()).decode()

    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for metrics, results in runs:
        ans = [r for r in results if r.gold_answerable]
        ks = [1, 3, 5, 10]
        ax.plot(
            ks,
            [sum(r.recall_at[str(k)] for r in ans) / max(1, len(ans)) for k in ks],
            marker="o",
            label=metrics["config"]["name"],
        )
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Retrieval recall@k")
    images["recall"] = save(fig)

    metrics, results = runs[0]
    kinds = _per_kind(results)
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    names = list(kinds)
    width = 0.27
    for i, key in enumerate(["recall@5", "answer recall", "correct abstention"]):
        vals = [0 if kinds[k][key] != kinds[k][key] else kinds[k][key] for k in names]
        ax.bar([x + i * width for x in range(len(names))], vals, width, label=key)
    ax.set_xticks([x + width for x in range(len(names))], names, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title(f"Per question kind ({metrics['config']['name']})")
    images["kinds"] = save(fig)

    langs = metrics.get("by_lang", {})
    if langs:
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        names = list(langs)
        for i, key in enumerate(["right_answer", "recall@5", "abstained"]):
            vals = [langs[n].get(key) or 0.0 for n in names]
            ax.bar([x + i * width for x in range(len(names))], vals, width, label=key)
        ax.set_xticks([x + width for x in range(len(names))], names)
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=8)
        ax.set_title("By language")
        images["languages"] = save(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.hist([r.latency_ms for r in results], bins=30, color="#4a7ab7")
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Latency")
    images["latency"] = save(fig)
    return images


GROUP_HEADLINE = [
    ("abstention.out_of_domain", "out-of-domain abstention", "≥ 0.98"),
    ("abstention.in_domain_precision", "in-domain abstention P", "≥ 0.90"),
    ("abstention.in_domain_recall", "in-domain abstention R", "≥ 0.90"),
    ("answer.right_answer_en", "right answer (English)", "≥ 0.90"),
    ("answer.right_answer_other", "right answer (fr/es/ru/ar/zh)", "≥ 0.80"),
    ("retrieval.recall@5_en", "gold page in top 5 (English)", "≥ 0.95"),
    ("retrieval.recall@5_other", "gold page in top 5 (other languages)", "≥ 0.85"),
    ("answer.keypoint_recall", "keypoint recall of the answer", "≥ 0.60"),
    ("retrieval.keypoint_recall", "keypoint recall of the passages", "≥ 0.80"),
]
GROUP_COLUMNS = [
    ("answerable", "answerable"),
    ("right_answer", "right answer"),
    ("answered", "answered"),
    ("recall@5", "recall@5"),
    ("abstained", "abstained (unanswerable)"),
    ("keypoint_recall", "keypoints (answer)"),
]


def _cell(value: object) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _group_table(title: str, groups: dict[str, dict]) -> list[str]:
    lines = [f"| {title} | n | " + " | ".join(label for _, label in GROUP_COLUMNS) + " |"]
    lines.append("|" + "---|" * (len(GROUP_COLUMNS) + 2))
    for name, g in groups.items():
        lines.append(f"| {name} | {g['n']} | " + " | ".join(_cell(g.get(k)) for k, _ in GROUP_COLUMNS) + " |")
    return lines


def write_report(out: Path, runs: Sequence, dataset: Path) -> None:
    metrics, results = runs[0]
    cfg = metrics["config"]
    lines = [
        "# SSTC Assistant — QA benchmark report",
        "",
        f"Dataset: `{dataset}` ({metrics['n']} questions). Index: `{cfg['index']}`, embedder `{cfg['embedder']}`, "
        f"generator `{cfg['generator']}`, abstention thresholds {cfg['abstain_threshold']}.",
        "",
        f"Citation judge: {cfg['judge']}.",
        "",
        *_table(runs),
        "",
        "## Targets of the answerability and policy-answer issues (first configuration)",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        *[
            f"| {label} | {_cell(metrics.get(key))} | {target} |"
            for key, label, target in GROUP_HEADLINE
            if metrics.get(key) is not None
        ],
        "",
        "## By kind of question",
        "",
        *_group_table("group", metrics.get("by_domain", {})),
        "",
        "## By language",
        "",
        *_group_table("language", metrics.get("by_lang", {})),
        "",
        "## Per question kind (first configuration)",
        "",
        *_group_table("kind", metrics.get("by_kind", {})),
        "",
        "## Worst 10 questions",
        "",
    ]
    for r in _worst(results):
        lines.append(f"- **{r.id}** ({r.kind}, {r.lang}) {r.question}")
        lines.append(f"  - what went wrong: {'; '.join(r.failures)}")
        lines.append(f"  - answer: {r.answer[:300]}")
    md = "\n".join(lines) + "\n"
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "report.html").write_text(_html(md, _plots(runs)), encoding="utf-8")


# fonts for every script the questions come in: without a CJK or Arabic font a browser draws boxes
_FONTS = (
    "system-ui,'Noto Sans','Noto Sans CJK SC','Noto Sans SC','Noto Sans Arabic','Noto Naskh Arabic',"
    "'Droid Sans Fallback','Microsoft YaHei','Arial Unicode MS',sans-serif"
)


def _html(md: str, images: dict[str, str]) -> str:
    """The markdown report as a page (tables, lists and emphasis rendered), plots after the first
    table and beside the per-kind table."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(md)
    plots = "".join(
        f'<img alt="{k}" src="data:image/png;base64,{v}">' for k, v in images.items() if k != "kinds"
    )
    body = body.replace("</table>", f"</table><div>{plots}</div>", 1)
    if "kinds" in images:
        body = body.replace(
            "<h2>Per question kind",
            f'<img alt="per kind" src="data:image/png;base64,{images["kinds"]}"><h2>Per question kind',
            1,
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>SSTC Assistant benchmark</title><style>"
        f"body{{font-family:{_FONTS};max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}img{max-width:100%;margin:.5em}</style></head><body>"
        + body
        + "</body></html>"
    )
