"""Training runs and the differentiation-methods lab: the `/learn` page and its API.

A run trains in a background thread (the event loop keeps serving); its progress is a list
of events the browser reads as Server-Sent Events, from the start or from the last event id
it saw. At most MAX_RUNNING runs train at once; each has limits on steps and wall time.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import re
import secrets
import threading
import time
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app import datasets
from app.errors import ApiError
from app.routes.evaluate import graph_spec, pointing_at
from app.routes.pages import render
from app.schemas import ERROR_RESPONSES, EvaluateIn, NodeIn, example
from app.serialize import number
from engine import swell
from engine.datasets import split
from engine.errors import EngineError
from engine.gradcheck import gradcheck
from engine.graph import build_graph
from engine.train import (
    DATA_X,
    DATA_Y,
    OPTIMIZERS,
    Data,
    Trainer,
    TrainSettings,
    build_model,
    loss_surface,
    model_from_spec,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["learning"])

MAX_RUNNING = 2
MAX_KEPT = 16
POLL_SECONDS = 0.05
KEEPALIVE_SECONDS = 5.0
# A run whose every follower left (a closed tab) stops after this long without a new one;
# EventSource reconnects within a few seconds, so a dropped connection does not stop it.
ABANDON_SECONDS = 15.0


# --- request bodies -------------------------------------------------------------------------


class DatasetIn(BaseModel):
    """Which data, how much of it, and how much is held out for testing."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="moons", description="moons, circles, spirals, blobs, line, digits")
    samples: int = Field(default=200, description="Rows of a generated set (4 to 5,000).")
    noise: float = Field(default=0.15, description="Standard deviation of the added noise.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    test_fraction: float = Field(default=0.25, description="Share of rows held out.")


class ModelIn(BaseModel):
    """A model the server builds: linear, an MLP, or a small CNN (for digits)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["linear", "mlp", "cnn"] = "mlp"
    hidden: list[int] = Field(default_factory=lambda: [16], max_length=4)
    activation: str = "tanh"
    seed: int = Field(default=0, ge=0, le=2**32 - 1)


class GraphModelIn(BaseModel):
    """A model given as a loss graph: const nodes X and y, inputs as parameters."""

    model_config = ConfigDict(extra="forbid")

    nodes: list[NodeIn] = Field(max_length=2_000)
    output: str
    task: Literal["multiclass", "binary", "regression"] = "multiclass"


class OptimizerIn(BaseModel):
    """The update rule and its settings (the learning rate is not used by Newton)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="gd", description=", ".join(OPTIMIZERS))
    learning_rate: float = 0.1
    batch_size: int | None = Field(default=None, description="minibatch and momentum only")
    momentum: float = 0.9
    damping: float = Field(default=0.0, description="λ of Newton's (H + λI)⁻¹")


class TrainIn(BaseModel):
    """Everything a training run needs."""

    model_config = example(
        {
            "dataset": {"name": "moons", "samples": 200},
            "model": {"kind": "mlp", "hidden": [8]},
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "steps": 200,
        }
    )

    dataset: DatasetIn = Field(default_factory=DatasetIn)
    model: ModelIn = Field(default_factory=ModelIn)
    graph: GraphModelIn | None = Field(default=None, description="Instead of `model`.")
    loss: str = Field(default="cross_entropy", description="cross_entropy, logistic or mse")
    optimizer: OptimizerIn = Field(default_factory=OptimizerIn)
    steps: int = 300
    max_seconds: float = 20.0
    step_delay_ms: float = Field(default=0.0, description="Slow motion: a pause after each step.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Seeds the order of the batches.")


StartCoordinate = Annotated[float, Field(ge=-1_000, le=1_000)]


class SurfaceIn(BaseModel):
    """The 1-D linear regression whose loss surface is drawn, and the optimizers' settings."""

    # "inf" and "nan" would make every loss on the surface nan.
    model_config = ConfigDict(
        **example({"start": [-1.0, 2.5], "learning_rate": 0.1, "steps": 25}),
        allow_inf_nan=False,
    )

    samples: int = 40
    noise: float = Field(default=0.5, ge=0)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    # The surface is drawn around the start and the minimum; a start far off (1e300) would
    # make the plot one point and every step overflow.
    start: tuple[StartCoordinate, StartCoordinate] = (-1.0, 2.5)
    learning_rate: float = 0.1
    batch_size: int = 8
    steps: int = 25


class GradcheckIn(EvaluateIn):
    """A graph or an expression, as for `/api/evaluate`."""


# --- runs -----------------------------------------------------------------------------------


class TrainingRun:
    """One run: its trainer, the events it produced so far, and a stop flag."""

    def __init__(self, run_id: str, trainer: Trainer, description: dict) -> None:
        self.id = run_id
        self.trainer = trainer
        self.description = description
        self.events: list[dict] = []
        self.status = "running"
        self.summary: dict | None = None
        self.stop_requested = threading.Event()
        self.lock = threading.Lock()
        self.created = time.time()
        self.followers = 0
        # A run nobody has followed yet counts as left at its start: one that no page or
        # client ever reads stops after ABANDON_SECONDS instead of holding a slot.
        self.left_at: float | None = time.monotonic()

    def follow(self, joining: bool) -> None:
        """Count the event streams reading this run (called on the event loop)."""
        with self.lock:
            self.followers += 1 if joining else -1
            self.left_at = None if self.followers else time.monotonic()

    def seen(self) -> None:
        """A client asked for the run's status: it is still wanted, stream or not."""
        with self.lock:
            if not self.followers:
                self.left_at = time.monotonic()

    def seconds_left(self) -> float:
        """The most this run can still take, by its time limit."""
        return max(0.0, self.created + self.trainer.settings.max_seconds - time.time())

    def should_stop(self) -> bool:
        """Stop when asked, or when every follower has been gone for ABANDON_SECONDS."""
        if self.stop_requested.is_set():
            return True
        with self.lock:
            left_at = self.left_at
        return left_at is not None and time.monotonic() - left_at > ABANDON_SECONDS

    def emit(self, event: dict) -> None:
        """Append an event (called from the training thread)."""
        with self.lock:
            self.events.append({"id": len(self.events), **_json_safe(event)})

    def events_from(self, index: int) -> tuple[list[dict], bool]:
        """Events from `index` on, and whether the run has ended (no more will come)."""
        with self.lock:
            return self.events[index:], self.status != "running"

    def work(self) -> None:
        """The training thread: run, then record how it ended as the last event."""
        try:
            summary = self.trainer.run(self.emit, self.should_stop)
            body = {
                "reason": summary.reason,
                "message": summary.message,
                "steps": summary.steps,
                "seconds": summary.seconds,
                "loss": summary.loss,
                "train_accuracy": summary.train_accuracy,
                "test_accuracy": summary.test_accuracy,
            }
        except EngineError as error:
            body = {"reason": "failed", "message": error.message, "code": error.code}
            if error.details:
                body["details"] = error.details
        except Exception:  # the thread must always end the stream, whatever happened
            log.exception("training run %s failed", self.id)
            body = {"reason": "failed", "message": "the run failed on the server"}
        self.emit({"type": "done", **body})
        with self.lock:
            self.summary = _json_safe(body)
            self.status = body["reason"]
        log.info("training run %s ended: %s", self.id, body["reason"])

    def to_json(self) -> dict:
        """The run's state, as `GET /api/train/{id}` returns it."""
        with self.lock:
            return {
                "run_id": self.id,
                "status": self.status,
                "events": len(self.events),
                "summary": self.summary,
                **self.description,
            }


class RunRegistry:
    """The runs of one app, with the cap on how many train at once."""

    def __init__(self, max_running: int = MAX_RUNNING, max_kept: int = MAX_KEPT) -> None:
        self.max_running = max_running
        self.max_kept = max_kept
        self.runs: dict[str, TrainingRun] = {}
        self.lock = threading.Lock()

    def start(self, trainer: Trainer, description: dict) -> TrainingRun:
        """Start a run in its own thread, or refuse with 429 when too many are training."""
        with self.lock:
            running = [run for run in self.runs.values() if run.status == "running"]
            if len(running) >= self.max_running:
                wait = max(1, math.ceil(min(run.seconds_left() for run in running)))
                raise ApiError(
                    429,
                    "too_many_runs",
                    f"{len(running)} training runs are already going, the most this server "
                    f"trains at once; one ends within {wait} s, so try again then",
                    headers={"Retry-After": str(wait)},
                )
            self._forget_old()
            run = TrainingRun(secrets.token_urlsafe(9), trainer, description)
            self.runs[run.id] = run
        threading.Thread(target=run.work, name=f"train-{run.id}", daemon=True).start()
        log.info("training run %s started: %s", run.id, description["optimizer"])
        return run

    def _forget_old(self) -> None:
        ended = [run for run in self.runs.values() if run.status != "running"]
        for run in sorted(ended, key=lambda r: r.created)[
            : max(0, len(self.runs) - self.max_kept + 1)
        ]:
            del self.runs[run.id]

    def get(self, run_id: str) -> TrainingRun:
        """A run by id, or 404."""
        run = self.runs.get(run_id)
        if run is None:
            raise ApiError(404, "unknown_run", f"there is no training run {run_id!r} (any more)")
        return run


def registry(request: Request) -> RunRegistry:
    """The app's run registry, made on first use."""
    state = request.app.state
    if not hasattr(state, "training_runs"):
        state.training_runs = RunRegistry()
    return state.training_runs


# --- building a run -------------------------------------------------------------------------


def _prepare(body: TrainIn, limits) -> tuple[Trainer, dict]:
    """The trainer a request describes, and what the page needs to know about the run."""
    loaded = datasets.load(
        body.dataset.name, body.dataset.samples, body.dataset.noise, body.dataset.seed
    )
    X, y, X_test, y_test = split(loaded.X, loaded.y, body.dataset.test_fraction, body.dataset.seed)
    model = _model(body, loaded, X, y, limits)
    settings = TrainSettings(
        optimizer=body.optimizer.name,
        learning_rate=body.optimizer.learning_rate,
        batch_size=body.optimizer.batch_size,
        momentum=body.optimizer.momentum,
        damping=body.optimizer.damping,
        steps=body.steps,
        max_seconds=body.max_seconds,
        seed=body.seed,
        step_delay=body.step_delay_ms / 1000.0,
    )
    trainer = Trainer(model, Data(X, y, X_test, y_test), settings)
    description = {
        "optimizer": settings.optimizer,
        "optimizer_title": OPTIMIZERS[settings.optimizer],
        "dataset": body.dataset.name,
        "task": model.task,
        "parameters": model.size,
        "train_rows": len(X),
        "test_rows": len(X_test),
        "steps": settings.steps,
        "max_seconds": settings.max_seconds,
        "batch_size": trainer.batch_size,
        "steps_per_epoch": trainer.steps_per_epoch,
    }
    if X.shape[1] == 2:
        description["points"] = {
            "train": {"X": np.round(X, 4).tolist(), "y": y.tolist()},
            "test": {"X": np.round(X_test, 4).tolist(), "y": y_test.tolist()},
        }
    return trainer, description


def _model(body: TrainIn, loaded, X, y, limits):
    if body.graph is not None:
        nodes = [node.model_dump(exclude_none=True) for node in body.graph.nodes]
        for node in nodes:
            if node["id"] == DATA_X:
                node["value"] = X
            elif node["id"] == DATA_Y:
                node["value"] = y
        spec = {"nodes": nodes, "output": body.graph.output}
        return model_from_spec(spec, body.graph.task, limits)

    if loaded.classes == 0 and body.loss != "mse":
        raise ApiError(422, "bad_loss", "a regression data set is trained with the mse loss")
    if loaded.classes > 2 and body.loss == "logistic":
        raise ApiError(
            422, "bad_loss", "the logistic loss has two classes; use cross_entropy for digits"
        )
    if body.model.kind == "cnn" and loaded.image_shape is None:
        raise ApiError(422, "bad_model", "the CNN needs images; choose the digits data set")
    return build_model(
        X,
        y,
        kind=body.model.kind,
        loss=body.loss,
        hidden=tuple(body.model.hidden),
        activation=body.model.activation,
        classes=max(loaded.classes, 2),
        seed=body.model.seed,
        image_shape=loaded.image_shape,
    )


# --- routes ---------------------------------------------------------------------------------


@router.get("/learn", response_class=HTMLResponse, include_in_schema=False)
async def learn_page(request: Request) -> HTMLResponse:
    """The learning page: training runs, loss surface, differentiation methods compared."""
    return render(request, "learn.html", datasets=datasets.available(), optimizers=OPTIMIZERS)


@router.get("/api/datasets")
async def list_datasets() -> dict:
    """The data sets a run can use."""
    return {"datasets": datasets.available()}


@router.post("/api/train", status_code=201, responses=ERROR_RESPONSES)
async def start_training(body: TrainIn, request: Request) -> dict:
    """Start a training run in the background; returns its id and where to read its events."""
    limits = request.app.state.settings.limits
    trainer, description = await run_in_threadpool(_prepare, body, limits)
    run = registry(request).start(trainer, description)
    return {
        "run_id": run.id,
        "events_url": f"/api/train/{run.id}/events",
        "stop_url": f"/api/train/{run.id}/stop",
        **_json_safe(description),
    }


@router.get("/api/train/{run_id}", responses=ERROR_RESPONSES)
async def training_status(run_id: str, request: Request) -> dict:
    """A run's status and, once it ended, how. Asking keeps a run alive as a stream does."""
    run = registry(request).get(run_id)
    run.seen()
    return run.to_json()


@router.post("/api/train/{run_id}/stop", responses=ERROR_RESPONSES)
async def stop_training(run_id: str, request: Request) -> dict:
    """Ask a run to stop after its current step (harmless when it already ended)."""
    run = registry(request).get(run_id)
    run.stop_requested.set()
    return {"run_id": run.id, "status": run.status, "stop_requested": True}


@router.get("/api/train/{run_id}/events", responses=ERROR_RESPONSES)
async def training_events(
    run_id: str,
    request: Request,
    last_event_id: str | None = Header(default=None),
    after: int | None = Query(default=None, description="Send only events after this id."),
) -> StreamingResponse:
    """The run's events as Server-Sent Events: steps, epoch, regions, then done."""
    run = registry(request).get(run_id)
    start = _resume_index(last_event_id, after)
    return StreamingResponse(
        _event_stream(run, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


_EVENT_ID = re.compile(r"[0-9]{1,9}")


def _resume_index(last_event_id: str | None, after: int | None) -> int:
    if after is not None:
        return max(0, after + 1)
    # Only an id this server could have sent: ASCII digits, no more than a run has events.
    # Anything else ("²", a 5,000-digit number) starts the stream from the beginning.
    if last_event_id is not None and _EVENT_ID.fullmatch(last_event_id.strip()):
        return int(last_event_id) + 1
    return 0


async def _event_stream(run: TrainingRun, index: int):
    run.follow(joining=True)
    try:
        async for chunk in _events_of(run, index):
            yield chunk
    finally:
        run.follow(joining=False)


async def _events_of(run: TrainingRun, index: int):
    quiet_since = time.monotonic()
    while True:
        events, ended = run.events_from(index)
        for event in events:
            yield _sse(event)
        index += len(events)
        if ended and not events:
            return
        if events:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            # A comment line keeps proxies from closing a quiet stream.
            yield ": still training\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)


def _sse(event: dict) -> str:
    data = json.dumps(event, allow_nan=False, separators=(",", ":"))
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {data}\n\n"


def _json_safe(value: Any) -> Any:
    """Floats that JSON cannot hold become "nan", "inf", "-inf"; numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, float | np.floating):
        return number(value) if not math.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


@router.post("/api/loss-surface", responses=ERROR_RESPONSES)
async def surface(body: SurfaceIn) -> dict:
    """Loss of a 1-D linear regression over (w, b) and the paths of GD, SGD, minibatch, Newton."""
    loaded = datasets.load("line", body.samples, body.noise, body.seed)
    result = await run_in_threadpool(
        loss_surface,
        loaded.X,
        loaded.y,
        body.start,
        body.learning_rate,
        body.batch_size,
        body.steps,
        body.seed,
    )
    result["data"] = {"x": loaded.X[:, 0].tolist(), "y": loaded.y.tolist()}
    return _json_safe(result)


@router.post("/api/gradcheck", responses=ERROR_RESPONSES)
async def gradient_check(body: GradcheckIn, request: Request) -> dict:
    """Autodiff gradients next to forward and central differences, over h from 1e-1 to 1e-15."""
    limits = request.app.state.settings.limits
    spec, positions = graph_spec(body, limits, request.app.state.parsed)
    with pointing_at(positions):
        result = await run_in_threadpool(
            lambda: gradcheck(build_graph(spec, limits), limits=limits)
        )
    return _json_safe(
        {
            "output": result.output,
            "steps": result.steps,
            "forward_errors": result.forward_errors,
            "central_errors": result.central_errors,
            "best_h": {"forward": result.best_forward_h, "central": result.best_central_h},
            "inputs": [
                {
                    "node": item.node,
                    "index": list(item.index),
                    "value": item.value,
                    "autodiff": item.autodiff,
                    "forward": item.forward,
                    "central": item.central,
                    "forward_error": item.forward_error,
                    "central_error": item.central_error,
                }
                for item in result.inputs
            ],
            "notes": result.notes,
        }
    )


@router.get("/api/swell", responses=ERROR_RESPONSES)
async def expression_swell(max_depth: int = Query(default=swell.MAX_DEPTH, ge=1, le=12)) -> dict:
    """Symbolic derivative size (written out, and shared) next to autodiff's node count."""
    return _swell(max_depth)


@functools.cache
def _swell(max_depth: int) -> dict:
    families = []
    for name, title in swell.FAMILIES.items():
        rows = swell.swell_rows(name, max_depth)
        families.append({"name": name, "title": title, "rows": [row.__dict__ for row in rows]})
    return {"families": families}
