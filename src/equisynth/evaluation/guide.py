"""Links from metric names to sections of docs/evaluation.md, and the guide rendered as HTML."""

import logging
import re
from pathlib import Path

from equisynth.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

GUIDE_PATH = PROJECT_ROOT / "docs" / "evaluation.md"
GUIDE_HTML_NAME = "evaluation_guide.html"

# Metric name pattern -> anchor of its section in docs/evaluation.md (GitHub heading slugs).
ANCHORS = (
    (r"^ks_", "kolmogorov-smirnov-statistic"),
    (r"^tvd_", "total-variation-distance"),
    (r"^pearson_difference$", "pearson-correlation-difference"),
    (r"^cramers_v_difference$", "cramers-v-difference"),
    (r"^detection_auc", "detection-auc"),
    (r"^elixhauser_count_", "elixhauser-count-distribution"),
    (r"^cooccurrence_phi_difference$", "co-occurrence-phi-difference"),
    (r"^top20_combination", "top-20-condition-combinations"),
    (r"^tstr_minus_trtr_auroc", "tstr-minus-trtr-auroc-gap"),
    (r"_auroc_(logreg|gbm)_", "auroc"),
    (r"_auprc_", "auprc"),
    (r"_brier_", "brier-score"),
    (r"^equalized_odds_difference", "equalized-odds-difference"),
    (r"^demographic_parity_difference", "demographic-parity-difference"),
    (r"^worst_group_auroc", "worst-group-auroc"),
    (r"^auroc_gap", "largest-auroc-gap"),
    (r"^exact_match_rate", "exact-match-rate"),
    (r"^dcr_closer_to_train_share$", "dcr-share-closer-to-training"),
    (r"^dcr_", "distance-to-closest-record-dcr"),
    (r"^nndr_", "nearest-neighbour-distance-ratio-nndr"),
    (r"^mia_auc$", "membership-inference-auc"),
    (r"^attribute_inference", "attribute-inference-accuracy"),
    (r"^(real|synthetic)_share$", "representation-shares"),
    (r"^log_disparity$", "log-disparity"),
    (r"^(target_share|achieved_share|target_log_disparity)$", "target-and-achieved-shares"),
)


def anchor_for(metric: str) -> str:
    """Section anchor of a metric in the guide; raises KeyError for a metric the guide does not cover."""
    for pattern, anchor in ANCHORS:
        if re.search(pattern, metric):
            return anchor
    raise KeyError(f"metric {metric!r} has no section in {GUIDE_PATH.name}")


def slugify(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def render_guide(markdown_text: str) -> str:
    """Render the guide as one self-contained HTML page, with GitHub-style ids on every heading."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(markdown_text)
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            token.attrSet("id", slugify(tokens[index + 1].content))
    body = parser.renderer.render(tokens, parser.options, {})
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>equisynth evaluation guide</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
        "code{background:#f3f3f3;padding:0 .2rem}"
        "</style></head><body>" + body + "</body></html>"
    )


def write_guide(folder: Path) -> Path | None:
    """Render docs/evaluation.md beside the reports so their links open offline."""
    target = folder / GUIDE_HTML_NAME
    if not GUIDE_PATH.exists():
        # NOTE: the guide lives in the source tree, not in the package, so an installed wheel
        # writes reports whose guide links do not resolve.
        log.warning("Evaluation guide %s not found; report links to it will not resolve", GUIDE_PATH)
        return None
    target.write_text(render_guide(GUIDE_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    return target
