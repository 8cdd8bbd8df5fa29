"""The run summary: the content of ``summary.json`` as one typed value.

:func:`igfsim.report.outputs.write_run_outputs` writes it (:meth:`RunSummary.from_run`, then
:meth:`RunSummary.to_json`) and :mod:`igfsim.report.inputs` reads it back (:meth:`RunSummary.from_json`).
The file layout is unchanged: ``to_dict`` gives the same keys in the same order as before there was a
type, so the JSON text of a run is byte for byte what earlier versions wrote.

Reading checks every field and raises :class:`~igfsim.errors.ReportInputError` naming the file and the
key (``arms.control.status``, ``expectations[2].verdict``). Every key earlier versions have always
written is required; the three added later (``time_units``, ``mechanism``, ``not_expressible``) may be
missing and then read as ``"min"``, no mechanism and 0, so older run folders still open.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from igfsim._version import __version__
from igfsim.analysis.expectations import Verdict, describe, verdict_counts
from igfsim.errors import ReportInputError
from igfsim.result.metrics import compute_metrics
from igfsim.result.scenario_result import RunStatus

if TYPE_CHECKING:
    from igfsim.analysis.expectations import ExpectationOutcome
    from igfsim.result.scenario_result import ScenarioResult
    from igfsim.scenario.schema import Scenario

#: the file name inside a run's folder
SUMMARY_FILE = "summary.json"


def _num(x: float | None) -> float | None:
    """A finite number, or None (JSON has no NaN or infinity)."""
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


@dataclass(frozen=True)
class ArmSummary:
    """How one arm simulated and its standard metrics, ``{readout: {metric: value or None}}``."""

    status: RunStatus
    message: str
    wall_s: float
    metrics: dict[str, dict[str, float | None]]

    @property
    def ok(self) -> bool:
        """Whether the arm simulated."""
        return self.status is RunStatus.OK

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "message": self.message, "wall_s": self.wall_s, "metrics": self.metrics}


@dataclass(frozen=True)
class ExpectationSummary:
    """One expectation with what the run gave: ``spec`` holds the expectation's own fields as written in the
    scenario (those set, in schema order), ``observed`` is None when not finite."""

    index: int
    text: str
    spec: dict[str, Any]
    observed: float | None
    verdict: Verdict
    detail: str

    @property
    def note(self) -> str:
        """What to show next to the verdict: the detail (why n/a, xfail, ...) or else the scenario's note."""
        return self.detail or str(self.spec.get("note") or "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.text,
            **self.spec,
            "observed": self.observed,
            "verdict": self.verdict.value,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class MechanismSummary:
    """The scenario's mechanism block (:class:`igfsim.scenario.schema.ResistanceMechanism`)."""

    id: str | None = None
    summary: str | None = None
    model_parts: tuple[str, ...] = ()
    by_construction: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "summary": self.summary,
            "model_parts": list(self.model_parts),
            "by_construction": self.by_construction,
        }


@dataclass(frozen=True)
class RunSummary:
    """Everything ``summary.json`` holds about one scenario run with one engine."""

    scenario: str
    title: str
    claims: tuple[str, ...]
    time_units: str
    references: tuple[str, ...]
    engine: str
    igfsim_version: str
    mechanism: MechanismSummary | None
    model_path: str | None
    model_sha256: str | None
    rtol: float | None
    atol: float | None
    arms: dict[str, ArmSummary]
    expectations: tuple[ExpectationSummary, ...]
    passed: int
    #: expectations that make ``validate`` fail: fail and xpass
    failed: int
    known_failures: int
    not_expressible: int

    @property
    def failed_arms(self) -> list[tuple[str, str]]:
        """``(arm, message)`` of every arm that did not simulate."""
        return [(name, arm.message) for name, arm in self.arms.items() if not arm.ok]

    # ------------------------------------------------------------------------------ from a run
    @classmethod
    def from_run(cls, result: ScenarioResult, scenario: Scenario, outcomes: list[ExpectationOutcome]) -> RunSummary:
        """The summary of ``result``, a run of ``scenario`` whose expectations gave ``outcomes``."""
        metrics = compute_metrics(result)
        counts = verdict_counts(outcomes)
        mech = scenario.mechanism
        return cls(
            scenario=scenario.name,
            title=scenario.title,
            claims=tuple(scenario.claims),
            time_units=result.time_units,
            references=tuple(scenario.references),
            engine=result.engine,
            igfsim_version=__version__,
            mechanism=None
            if mech is None
            else MechanismSummary(mech.id, mech.summary, tuple(mech.model_parts), mech.by_construction),
            model_path=result.attrs.get("model_path"),
            model_sha256=result.attrs.get("model_sha256"),
            rtol=result.attrs.get("rtol"),
            atol=result.attrs.get("atol"),
            arms={
                rec.arm: ArmSummary(
                    rec.status,
                    rec.message,
                    round(rec.wall_s, 4),
                    {r: {m: _num(v) for m, v in ms.items()} for r, ms in metrics[rec.arm].items()},
                )
                for rec in result.records
            },
            expectations=tuple(
                ExpectationSummary(
                    o.index,
                    describe(o.expectation),
                    o.expectation.model_dump(exclude_none=True),
                    _num(o.observed),
                    o.verdict,
                    o.detail,
                )
                for o in outcomes
            ),
            passed=counts.get(Verdict.PASS, 0),
            failed=sum(not o.ok for o in outcomes),
            known_failures=counts.get(Verdict.XFAIL, 0),
            not_expressible=counts.get(Verdict.NOT_EXPRESSIBLE, 0),
        )

    # ------------------------------------------------------------------------------ to JSON
    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``summary.json`` (keys in the order the file has always had)."""
        return {
            "scenario": self.scenario,
            "title": self.title,
            "claims": list(self.claims),
            "time_units": self.time_units,
            "references": list(self.references),
            "engine": self.engine,
            "igfsim_version": self.igfsim_version,
            "mechanism": None if self.mechanism is None else self.mechanism.to_dict(),
            "model": {"path": self.model_path, "sha256": self.model_sha256},
            "tolerances": {"rtol": self.rtol, "atol": self.atol},
            "arms": {name: arm.to_dict() for name, arm in self.arms.items()},
            "expectations": [x.to_dict() for x in self.expectations],
            "passed": self.passed,
            "failed": self.failed,
            "known_failures": self.known_failures,
            "not_expressible": self.not_expressible,
        }

    def to_json(self) -> str:
        """The text of ``summary.json``."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    # ------------------------------------------------------------------------------ from JSON
    @classmethod
    def from_dict(cls, data: object, source: str = SUMMARY_FILE) -> RunSummary:
        """The summary in a parsed ``summary.json``; ``source`` (the file) names where a problem is."""
        top = _Fields.top(data, source)
        model, tol = top.sub("model"), top.sub("tolerances")
        mech = top.optional_sub("mechanism")
        return cls(
            scenario=top.text("scenario"),
            title=top.text("title"),
            claims=top.texts("claims"),
            time_units=top.text("time_units", default="min"),
            references=top.texts("references"),
            engine=top.text("engine"),
            igfsim_version=top.text("igfsim_version"),
            mechanism=None if mech is None or not mech.data else _mechanism(mech),
            model_path=model.optional_text("path"),
            model_sha256=model.optional_text("sha256"),
            rtol=tol.number("rtol"),
            atol=tol.number("atol"),
            arms={name: _arm(fields) for name, fields in top.sub("arms").subs()},
            expectations=tuple(_expectation(fields) for fields in top.sub_list("expectations")),
            passed=top.integer("passed"),
            failed=top.integer("failed"),
            known_failures=top.integer("known_failures"),
            not_expressible=top.integer("not_expressible", default=0),
        )

    @classmethod
    def from_json(cls, text: str, source: str = SUMMARY_FILE) -> RunSummary:
        """The summary in the text of a ``summary.json``."""
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ReportInputError(f"{source}: unreadable ({err})") from None
        return cls.from_dict(data, source)

    @classmethod
    def read(cls, path) -> RunSummary:
        """The summary in the file ``path``; any problem is a :class:`ReportInputError` naming it."""
        from pathlib import Path

        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ReportInputError(f"{path}: unreadable ({err})") from None
        return cls.from_json(text, str(path))


def _arm(f: _Fields) -> ArmSummary:
    status = f.text("status")
    try:
        run_status = RunStatus(status)
    except ValueError:
        raise f.error("status", f"is {status!r}, not one of {', '.join(s.value for s in RunStatus)}") from None
    metrics = {readout: {m: values.number(m) for m in values.data} for readout, values in f.sub("metrics").subs()}
    return ArmSummary(run_status, f.text("message"), f.number("wall_s") or 0.0, metrics)


_EXPECTATION_KEYS = ("index", "text", "observed", "verdict", "detail")


def _expectation(f: _Fields) -> ExpectationSummary:
    verdict = f.text("verdict")
    try:
        v = Verdict(verdict)
    except ValueError:
        raise f.error("verdict", f"is {verdict!r}, not one of {', '.join(x.value for x in Verdict)}") from None
    spec = {k: val for k, val in f.data.items() if k not in _EXPECTATION_KEYS}
    return ExpectationSummary(f.integer("index"), f.text("text"), spec, f.number("observed"), v, f.text("detail"))


def _mechanism(f: _Fields) -> MechanismSummary:
    return MechanismSummary(
        f.optional_text("id", default=None),
        f.optional_text("summary", default=None),
        f.texts("model_parts", default=()),
        f.optional_text("by_construction", default=None),
    )


_REQUIRED: Any = object()


@dataclass(frozen=True)
class _Fields:
    """One JSON object of the file being read, with its key path (for messages) and typed getters."""

    data: Mapping[str, Any]
    where: str
    source: str

    @classmethod
    def top(cls, data: object, source: str) -> _Fields:
        if not isinstance(data, Mapping):
            raise ReportInputError(f"{source}: not an igfsim run summary (expected a JSON object)")
        return cls(data, "", source)

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, problem: str) -> ReportInputError:
        return ReportInputError(f"{self.source}: key {self.path(key)!r} {problem}")

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _REQUIRED:
            raise self.error(key, "is missing")
        return default

    def _wrong(self, key: str, value: Any, expected: str) -> ReportInputError:
        return self.error(key, f"should be {expected}, not {json.dumps(value)[:60]}")

    def text(self, key: str, default: Any = _REQUIRED) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._wrong(key, value, "a string")
        return value

    def optional_text(self, key: str, default: Any = _REQUIRED) -> str | None:
        value = self._get(key, default)
        if value is not None and not isinstance(value, str):
            raise self._wrong(key, value, "a string or null")
        return value

    def texts(self, key: str, default: Any = _REQUIRED) -> tuple[str, ...]:
        value = self._get(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(x, str) for x in value):
            raise self._wrong(key, value, "a list of strings")
        return tuple(value)

    def integer(self, key: str, default: Any = _REQUIRED) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, value, "an integer")
        return value

    def number(self, key: str, default: Any = _REQUIRED) -> float | None:
        value = self._get(key, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise self._wrong(key, value, "a number or null")
        return value

    def sub(self, key: str) -> _Fields:
        value = self._get(key, _REQUIRED)
        if not isinstance(value, Mapping):
            raise self._wrong(key, value, "an object")
        return _Fields(value, self.path(key), self.source)

    def optional_sub(self, key: str) -> _Fields | None:
        return None if self._get(key, None) is None else self.sub(key)

    def subs(self) -> list[tuple[str, _Fields]]:
        """Every member of this object, each an object itself."""
        return [(k, self.sub(k)) for k in self.data]

    def sub_list(self, key: str) -> list[_Fields]:
        value = self._get(key, _REQUIRED)
        if not isinstance(value, list):
            raise self._wrong(key, value, "a list")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self.error(f"{key}[{i}]", "should be an object")
            out.append(_Fields(item, f"{self.path(key)}[{i}]", self.source))
        return out
