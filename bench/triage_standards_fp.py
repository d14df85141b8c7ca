"""How often standard items are attached to out-of-scope reports vs major hazards, system level.

Why: the lexical matcher alone cannot tell a topic word from a hazard ("燃气费涨价了" shares 燃气
with gas items), so its false positives are controlled where triage calls it: not for reports the
classifier thinks out of scope (P(out of scope) ≥ ``routing.STANDARDS_OOS_SKIP``) and only within
the top sectors. This measures that on out-of-fold probabilities (never the held-out set):

    .venv/bin/python -u bench/triage_system_cv.py --save /tmp/oof.joblib
    .venv/bin/python bench/triage_standards_fp.py /tmp/oof.joblib
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage import routing, standards  # noqa: E402


def main() -> None:
    d = joblib.load(sys.argv[1])
    recs, probs = d["records"], d["probs"]
    groups = {"out_of_scope": [i for i, r in enumerate(recs) if r["sector"] is None],
              "major_hazard": [i for i, r in enumerate(recs) if r["report_type"] == "major_hazard"],
              "general_hazard": [i for i, r in enumerate(recs) if r["report_type"] == "general_hazard"]}
    alone = {g: sum(bool(standards.match(recs[i]["text"], use_semantic=False)) for i in ids) / len(ids)
             for g, ids in groups.items()}
    print("matcher alone (all sectors): " + "  ".join(f"{g} {v:.3f}" for g, v in alone.items()))
    cache: dict[tuple[int, tuple[str, ...]], bool] = {}
    for cut in (0.5, 0.4, 0.3, 0.2):
        line = []
        for g, ids in groups.items():
            n = 0
            for i in ids:
                oos = max(probs["report_type"][i].get("out_of_scope", 0.0), probs["sector"][i].get("none", 0.0))
                if oos >= cut:
                    continue
                top = tuple(s for s, _ in sorted(probs["sector"][i].items(), key=lambda kv: -kv[1]) if s != "none")
                top = top[: routing.N_STANDARD_SECTORS]
                if (i, top) not in cache:
                    cache[(i, top)] = bool(standards.match(recs[i]["text"], top_k=3, sectors=top, use_semantic=False))
                n += cache[(i, top)]
            line.append(f"{g} {n / len(ids):.3f}")
        mark = "  (chosen)" if cut == routing.STANDARDS_OOS_SKIP else ""
        print(f"skip at P(oos) >= {cut}: " + "  ".join(line) + mark)


if __name__ == "__main__":
    main()
