"""Fuzzing every kind of input a user hands igfsim: scenario files, sweep files, models and ``.bnet``
files (seeded Hypothesis; a few thousand cases in a minute or two).

Each case is a valid input with a few random changes (values swapped for Booleans, NaN, infinities,
huge numbers, wrong types, long or odd strings; keys deleted or added; the text cut or garbled).
What igfsim may do with it:

* accept it, or
* refuse it with an :class:`igfsim.errors.IgfsimError` whose message names the file (and for files
  with keys, each problem's key);

never another exception (a traceback), never take longer than the deadline (a hang). Where the
change makes the input wrong by construction (a Boolean or NaN where a number belongs, an unknown drug,
a huge grid), accepting it is a *wrong accept* and fails the test too. ``FUZZ_CASES`` sets the
number of cases per test.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from igfsim.errors import IgfsimError
from igfsim.model.bnet import parse_bnet
from igfsim.model.sbml import load_model, load_model_string
from igfsim.scenario.checks import validate_scenario
from igfsim.scenario.loading import load_scenario
from igfsim.scenario.translate import build_protocol
from igfsim.sweep.spec import design_table, load_sweep

CASES = int(os.environ.get("FUZZ_CASES", "0")) or None
FUZZ = settings(
    derandomize=True,  # seeded: the same cases on every run and machine
    database=None,
    deadline=timedelta(seconds=5),  # a case slower than this is a hang
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
WORK = Path(tempfile.mkdtemp(prefix="igfsim-fuzz-"))

SCENARIO = {
    "name": "fuzz",
    "title": "a scenario with most of the format in it",
    "simulation": {"duration_min": 60, "points": 13, "rtol": 1e-8, "atol": 1e-10},
    "cell": {"context": "InsR-A-high", "expression": {"InsR_A": 2.0}},
    "stimulus": {"IGF1": 10},
    "readouts": ["pIGF1R", "pAkt"],
    "arms": [
        {"name": "control"},
        {"name": "cix", "treatments": [{"drug": "cixutumumab", "dose_nM": 100, "start_min": -30}]},
        {"name": "lins", "treatments": [{"drug": "linsitinib", "dose_nM": 50, "start_min": 0, "stop_min": 30}]},
    ],
    "expect": [
        {"readout": "pAkt", "arm": "cix", "metric": "auc", "compare": "ratio", "vs": "control"}
        | {"op": "<", "value": 0.9},
        {"readout": "pIGF1R", "arm": "lins", "metric": "final", "op": "between", "value": [0, 1]},
    ],
}

SWEEP = {
    "scenario": {k: v for k, v in SCENARIO.items() if k != "expect"},
    "axes": [
        {"name": "dose", "target": "dose:cix/cixutumumab", "range": [0.01, 1000], "n": 3, "scale": "log"},
        {"name": "ira", "target": "expression:InsR_A", "values": [0.5, 2]},
    ],
    "metrics": ["auc", "final"],
}

#: values that break naive readers
NASTY = [
    True,
    False,
    None,
    math.nan,
    math.inf,
    -math.inf,
    -1,
    0,
    -0.0,
    1e308,
    10**30,
    10**9,
    "",
    " ",
    "x" * 500,
    "MCF-7",
    "control",
    "\u00e9\u2603\x00",
    "1e3",
    [],
    {},
    [1, 2],
    {"a": 1},
    [[[[]]]],
]


def _not_a_number(value) -> bool:
    """Wrong where a number belongs, by construction: a Boolean, NaN or an infinity, a mapping, or a
    string that does not read as a number (``"1e3"`` does: YAML 1.1 reads ``1e3`` as a string)."""
    if isinstance(value, bool | dict):
        return True
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        try:
            return not math.isfinite(float(value))
        except ValueError:
            return True
    return False


def _leaves(doc, path=()):
    """(path, value) of every leaf of a nested dict/list."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(doc, list) and doc and not all(isinstance(x, int | float) for x in doc):
        for i, v in enumerate(doc):
            yield from _leaves(v, (*path, i))
    else:
        yield path, doc


def _key(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


def _set(doc, path, value):
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


def _delete(doc, path):
    for p in path[:-1]:
        doc = doc[p]
    del doc[path[-1]]


def _forget(must: set[str], key: str) -> None:
    """Drop what an earlier change asked of ``key`` or below it (a later change replaced it)."""
    must -= {k for k in must if k == key or k.startswith((key + ".", key + "["))}


@st.composite
def mutated(draw, base: dict):
    """(document, keys that must be reported): ``base`` with one to three random changes."""
    doc = copy.deepcopy(base)
    must: set[str] = set()
    for _ in range(draw(st.integers(1, 3))):
        leaves = list(_leaves(doc))
        if not leaves:
            break
        path, old = draw(st.sampled_from(leaves))
        if not path:
            break
        op = draw(st.sampled_from(["nasty", "number", "delete", "extra", "drug"]))
        _forget(must, _key(path))
        if op == "nasty":
            new = draw(st.sampled_from(NASTY))
            _set(doc, path, new)
            if isinstance(old, int | float) and not isinstance(old, bool) and _not_a_number(new):
                must.add(_key(path))
        elif op == "number":
            _set(doc, path, draw(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**12), 10**12)))
        elif op == "delete":
            _delete(doc, path)
        elif op == "extra" and isinstance(doc, dict):
            doc[draw(st.sampled_from(["colour", "dose", "armz", "__proto__"]))] = draw(st.sampled_from(NASTY))
        elif op == "drug" and path[-1] == "drug":
            _set(doc, path, draw(st.sampled_from(["cixutumab", "gefitinib", "IGF1", "cixutumumab "])))
            must.add(_key(path))
    return doc, must


@st.composite
def garbled(draw, text: str) -> str:
    """YAML text cut, with characters inserted or a line repeated (a duplicate key)."""
    op = draw(st.sampled_from(["cut", "insert", "repeat"]))
    if op == "cut":
        return text[: draw(st.integers(0, len(text)))]
    lines = text.splitlines()
    i = draw(st.integers(0, len(lines) - 1))
    if op == "repeat":
        return "\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    junk = draw(st.text(alphabet="{}[]:,-&*!|>'\"#%@`\t \u00e9", min_size=1, max_size=8))
    at = draw(st.integers(0, len(lines[i])))
    lines[i] = lines[i][:at] + junk + lines[i][at:]
    return "\n".join(lines)


def _write(text: str, name: str) -> Path:
    path = Path(tempfile.mkstemp(dir=WORK, prefix=name, suffix=".yaml")[1])
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def _refused(err: IgfsimError, path: Path) -> set[str]:
    """The keys a refusal names (after checking it names the file)."""
    assert str(path) in str(err), f"the error does not name the file: {err}"
    return {i.where for i in getattr(err, "issues", [])}


def _dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _model():
    return load_model()  # cached per file content (not a fixture: Hypothesis would print it in a failure)


def _scenario_case(model, text: str, must: set[str]) -> None:
    path = _write(text, "scenario")
    try:
        scenario = validate_scenario(load_scenario(path), model, str(path))
        for arm in scenario.arms:
            build_protocol(model, scenario, arm)
    except IgfsimError as err:
        named = _refused(err, path)
        missing = {k for k in must if not any(w == k or w.startswith(k + ".") or w.startswith(k + "[") for w in named)}
        assert not missing or not named, f"the refusal does not name {missing}: {err}"
        event("refused")
        return
    assert not must, f"wrong accept: {sorted(must)} should have been refused"
    event("accepted")


@settings(FUZZ, max_examples=CASES or 1200)
@given(case=mutated(SCENARIO))
def test_fuzz_scenarios(case):
    doc, must = case
    _scenario_case(_model(), _dump(doc), must)


@settings(FUZZ, max_examples=CASES or 400)
@given(text=garbled(_dump(SCENARIO)))
def test_fuzz_scenario_text(text):
    _scenario_case(_model(), text, set())


@settings(FUZZ, max_examples=CASES or 500)
@given(case=mutated(SWEEP), huge=st.booleans())
def test_fuzz_sweeps(case, huge):
    doc, must = case
    if huge and isinstance(doc.get("axes"), list) and doc["axes"] and isinstance(doc["axes"][0], dict):
        doc["axes"][0]["n"] = 10**9  # a grid of 2e9 runs: refused before anything is allocated
        doc["axes"][0].pop("values", None)
        _forget(must, "axes[0]")
        must.add("axes")
    path = _write(_dump(doc), "sweep")
    try:
        sweep = load_sweep(path, _model())
        panel, rows = design_table(sweep)
        assert len(rows) == len(panel)
    except IgfsimError as err:
        named = _refused(err, path)
        missing = {k for k in must if not any(w == k or w.startswith((k + ".", k + "[")) for w in named)}
        assert not missing or not named, f"the refusal does not name {missing}: {err}"
        event("refused")
        return
    assert not must, f"wrong accept: {sorted(must)} should have been refused"
    event("accepted")


TINY = """model tiny
  compartment c = 1
  species A in c, B in c
  J1: A -> B; c*k*A
  J2: B -> A; kr*B*piecewise(1, time > 5, 0.5)
  k = 0.1; kr = 0.01
  A = 10; B = 0
  p := k*A + 2
end
"""


@st.composite
def model_texts(draw) -> str:
    op = draw(st.sampled_from(["edit", "number", "sbml"]))
    text = TINY
    if op == "number":
        value = draw(st.sampled_from(["nan", "inf", "-inf", "1e400", "true", "-0", "1e-400", "y", "k"]))
        return text.replace("k = 0.1", f"k = {value}")
    if op == "sbml":
        sbml = load_model_string(TINY, "tiny").sbml
        at = draw(st.integers(0, len(sbml)))
        return sbml[:at] + draw(st.sampled_from(["", "<", "&", "<event/>", "\x00", "]]>"])) + sbml[at + 1 :]
    lines = text.splitlines()
    i = draw(st.integers(1, len(lines) - 2))
    lines[i] = draw(
        st.sampled_from(
            [
                "",
                "  J3: A -> ; delay(A, 1)",
                "  x' = 1",
                "  0 = A - B",
                "  k := k",
                "  species C in nowhere",
                "  \u00e9 = 1",
                "  J1: A -> B; undefined_fn(A)",
                "  at (time > 1): A = 0",
                "  A has substance_units",
                lines[i] + lines[i],
            ]
        )
    )
    return "\n".join(lines)


@settings(FUZZ, max_examples=CASES or 250)
@given(text=model_texts())
def test_fuzz_models(text):
    from igfsim.engines.scipy_ode import ScipyEngine

    try:
        ScipyEngine(backend="python").system(load_model_string(text, "fuzz-model"))
    except IgfsimError as err:
        assert "fuzz-model" in str(err) or "scipy engine" in str(err) or "SBML" in str(err), err
        event("refused")
        return
    event("accepted")


@st.composite
def bnet_texts(draw) -> str:
    names = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,6}", fullmatch=True)
    ops = draw(st.lists(st.sampled_from([" & ", " | "]), min_size=1, max_size=4))
    lines = ["targets, factors"] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(1, 6))):
        target = draw(names)
        terms = [("!" if draw(st.booleans()) else "") + draw(names) for _ in range(len(ops) + 1)]
        rule = terms[0] + "".join(o + t for o, t in zip(ops, terms[1:], strict=True))
        depth = draw(st.sampled_from([0, 1, 5, 200, 5000]))
        rule = "(" * depth + rule + ")" * depth
        if draw(st.booleans()):
            at = draw(st.integers(0, len(rule)))
            rule = rule[:at] + draw(st.sampled_from(["", "(", ")", "&&", "!", ",", "#", "\u00e9"])) + rule[at:]
        lines.append(f"{target}, {rule}")
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=CASES or 1000)
@given(text=bnet_texts())
def test_fuzz_bnet(text):
    import warnings

    from igfsim.errors import BnetWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BnetWarning)  # undefined inputs are warned about, by design
        try:
            parse_bnet(text, "fuzz.bnet")
        except IgfsimError as err:
            assert "fuzz.bnet" in str(err), err
            event("refused")
            return
    event("accepted")
