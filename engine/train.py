"""Training a model graph with gradient descent and its relatives, step by step.

A model is a graph whose output is the loss, with this convention for its nodes:
- `input` nodes are the parameters θ: the only nodes that receive gradients and change;
- the `const` node `X` holds the inputs of a batch, one row per example, and the `const` node
  `y` their targets (class labels as whole numbers, or real values); the trainer swaps in the
  rows of each batch before a forward pass, so one graph serves every batch size;
- an optional node named `scores` holds the model's output before the loss (class scores, a
  single logit, or the prediction), from which accuracy and decision regions are read.

The loss of a batch is the mean over its examples, J(θ) = (1/|B|) Σ_{n∈B} L(f(X_n), Y_n), so
full-batch gradient descent, SGD (|B| = 1) and minibatches differ only in which rows B holds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import EngineError, LimitError
from engine.evaluate import evaluate, forward
from engine.graph import Graph, build_graph
from engine.hessian import MAX_HESSIAN_PARAMETERS, hessian
from engine.limits import DEFAULT_LIMITS, Limits
from engine.ops import OPS

DATA_X = "X"
DATA_Y = "y"
SCORES = "scores"

MAX_STEPS = 20_000
MAX_SECONDS = 120.0
MAX_STEP_DELAY = 0.1


# --- models ---------------------------------------------------------------------------------


@dataclass
class Model:
    """A loss graph, its parameter ids in forward order, and how to read its `scores`."""

    graph: Graph
    params: list[str]
    task: str  # "multiclass", "binary" (one logit) or "regression"

    @property
    def size(self) -> int:
        """The number of parameters (every element of every parameter tensor)."""
        return sum(int(np.size(self.graph.nodes[p].value)) for p in self.params)


def model_from_spec(spec: dict, task: str, limits: Limits = DEFAULT_LIMITS) -> Model:
    """Check a loss graph against the convention above and wrap it as a Model."""
    graph = build_graph(spec, limits)
    for name in (DATA_X, DATA_Y):
        node = graph.nodes.get(name)
        if node is None or node.op.name != "const":
            raise EngineError(
                f"a model graph needs a const node named {name!r} that holds the "
                f"{'inputs' if name == DATA_X else 'targets'} of a batch",
                code="missing_placeholder",
            )
    params = [i for i in graph.order if graph.nodes[i].op.name == "input"]
    if not params:
        raise EngineError("a model graph needs at least one input node (a parameter)")
    if task != "regression" and SCORES not in graph.nodes:
        raise EngineError(
            f"a classifier graph needs a node named {SCORES!r} holding its class scores",
            code="missing_scores",
        )
    return Model(graph=graph, params=params, task=task)


class _SpecBuilder:
    """Collects nodes of a model graph; parameters get seeded random starting values."""

    def __init__(self, X, y, seed: int) -> None:
        self.nodes: list[dict] = [
            {"id": DATA_X, "op": "const", "value": np.asarray(X, float)},
            {"id": DATA_Y, "op": "const", "value": np.asarray(y, float)},
        ]
        self.rng = np.random.default_rng(seed)
        self.count = 0

    def add(self, op: str, *inputs: str, node_id: str | None = None, **attrs) -> str:
        self.count += 1
        node_id = node_id or f"n{self.count}"
        node: dict[str, Any] = {"id": node_id, "op": op, "inputs": list(inputs)}
        if attrs:
            node["attrs"] = attrs
        self.nodes.append(node)
        return node_id

    def const(self, node_id: str, value) -> str:
        self.nodes.append({"id": node_id, "op": "const", "value": value})
        return node_id

    def param(self, node_id: str, shape: tuple, fan_in: int, fan_out: int, relu=False) -> str:
        # Glorot's uniform range keeps tanh layers in their steep part; He's suits relu.
        limit = math.sqrt(6.0 / fan_in) if relu else math.sqrt(6.0 / (fan_in + fan_out))
        value = self.rng.uniform(-limit, limit, shape) if shape else np.float64(0.0)
        self.nodes.append({"id": node_id, "op": "input", "value": value})
        return node_id

    def zeros(self, node_id: str, shape: tuple) -> str:
        value = np.zeros(shape) if shape else np.float64(0.0)
        self.nodes.append({"id": node_id, "op": "input", "value": value})
        return node_id

    def dense(self, name: str, source: str, fan_in: int, fan_out: int | None, relu=False,
              out_id: str | None = None) -> str:  # fmt: skip
        """source @ W + b; fan_out None makes one output per row (a vector of shape (n,))."""
        shape = (fan_in, fan_out) if fan_out else (fan_in,)
        weight = self.param(f"W{name}", shape, fan_in, fan_out or 1, relu)
        bias = self.zeros(f"b{name}", (fan_out,) if fan_out else ())
        return self.add("add", self.add("matmul", source, weight), bias, node_id=out_id)

    def spec(self, output: str) -> dict:
        return {"nodes": self.nodes, "output": output}


LOSSES = ("cross_entropy", "logistic", "mse")
ACTIVATIONS = ("tanh", "relu", "sigmoid")


def _loss(builder: _SpecBuilder, scores: str, loss: str) -> str:
    if loss == "cross_entropy":
        return builder.add("cross_entropy", scores, DATA_Y, node_id="loss")
    if loss == "mse":
        return builder.add("mse", scores, DATA_Y, node_id="loss")

    # Logistic loss log(1 + e^(−t·z)), t = ±1, as the cross-entropy of the score pair (0, z):
    # the same number, computed stably by log-softmax and smooth everywhere. (The shortcut
    # relu(u) + log(1 + e^(−|u|)) has a gradient of 0 instead of ½ at u = 0, because relu and
    # abs both take 0 as their derivative there, and zero weights put every row at u = 0.)
    column = builder.add("reshape", scores, shape=[-1, 1])
    pair = builder.add("matmul", column, builder.const("zero_one", np.array([[0.0, 1.0]])))
    return builder.add("cross_entropy", pair, DATA_Y, node_id="loss")


def task_of(loss: str) -> str:
    """What the scores of a model trained with this loss mean."""
    return {"cross_entropy": "multiclass", "logistic": "binary", "mse": "regression"}[loss]


def build_model(
    X, y, kind: str = "linear", loss: str = "cross_entropy", hidden: tuple[int, ...] = (),
    activation: str = "tanh", classes: int = 2, seed: int = 0, image_shape=None,
) -> Model:  # fmt: skip
    """A linear model, an MLP or a small CNN on rows of X, ending in the chosen loss."""
    _check_model(kind, loss, hidden, activation)
    builder = _SpecBuilder(X, y, seed)
    outputs = None if loss in ("logistic", "mse") else classes
    features = int(np.shape(X)[1])
    relu = activation == "relu"

    source = DATA_X
    if kind == "cnn":
        source, features = _conv_layers(builder, image_shape)
    layers = list(hidden) if kind in ("mlp", "cnn") else []
    for index, width in enumerate(layers, start=1):
        pre = builder.dense(str(index), source, features, width, relu)
        source, features = builder.add(activation, pre), width
    builder.dense("out", source, features, outputs, out_id=SCORES)
    loss_id = _loss(builder, SCORES, loss)
    return model_from_spec(builder.spec(loss_id), task_of(loss))


def _conv_layers(builder: _SpecBuilder, image_shape) -> tuple[str, int]:
    """Two conv → relu → 2×2 max-pool blocks (6 then 12 channels), flattened."""
    if "conv2d" not in OPS or "max_pool2d" not in OPS:
        raise EngineError("this engine has no conv2d or max_pool2d op", code="no_conv_ops")
    height, width = image_shape
    image = builder.add("reshape", DATA_X, shape=[-1, 1, height, width])
    channels = 1
    for index, out_channels in ((1, 6), (2, 12)):
        fan_in = channels * 9
        kernel = builder.param(f"K{index}", (out_channels, channels, 3, 3), fan_in, 0, True)
        bias = builder.zeros(f"c{index}", (out_channels,))
        conv = builder.add("conv2d", image, kernel, bias, padding=1)
        image = builder.add("max_pool2d", builder.add("relu", conv), kernel_size=2)
        channels, height, width = out_channels, height // 2, width // 2
    return builder.add("flatten", image, start_dim=1), channels * height * width


def _check_model(kind: str, loss: str, hidden, activation: str) -> None:
    if kind not in ("linear", "mlp", "cnn"):
        raise EngineError(
            f"unknown model {kind!r}; choose linear, mlp or cnn", code="unknown_model"
        )
    if loss not in LOSSES:
        raise EngineError(
            f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}", code="unknown_loss"
        )
    if activation not in ACTIVATIONS:
        raise EngineError(
            f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}",
            code="unknown_activation",
        )
    if kind == "mlp" and not hidden:
        raise EngineError("an MLP needs at least one hidden layer", code="bad_hidden")
    if any(isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= 256 for w in hidden):
        raise EngineError(
            f"hidden layer widths must be whole numbers from 1 to 256, got {list(hidden)}",
            code="bad_hidden",
        )


# --- optimizers -----------------------------------------------------------------------------

Params = dict[str, Any]


class GradientDescent:
    """θ ← θ − γ·∇L(θ): a step of size γ (the learning rate) down the gradient (figure 2.1)."""

    needs_hessian = False

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def step(self, params: Params, grads: Params, hessian=None) -> Params:
        """The parameters after one update."""
        return {p: params[p] - self.learning_rate * grads[p] for p in params}


class Momentum:
    """v ← μ·v + ∇L(θ);  θ ← θ − γ·v: the step keeps a fraction μ of the previous steps.

    This is the form torch.optim.SGD uses (v starts at the first gradient).
    """

    needs_hessian = False

    def __init__(self, learning_rate: float, momentum: float) -> None:
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.velocity: Params = {}

    def step(self, params: Params, grads: Params, hessian=None) -> Params:
        """The parameters after one update; the velocity is kept for the next."""
        for p in params:
            previous = self.velocity.get(p)
            self.velocity[p] = (
                grads[p] if previous is None else self.momentum * previous + grads[p]
            )
        return {p: params[p] - self.learning_rate * self.velocity[p] for p in params}


class Newton:
    """θ ← θ − (H + λI)⁻¹·∇L(θ): jump to the minimum of the local quadratic model.

    H is the exact Hessian (engine/hessian.py) and λ ≥ 0 the damping, which shortens the
    step where the quadratic model is flat or not convex. On a quadratic loss with λ = 0 one
    step lands on the minimum.
    """

    needs_hessian = True

    def __init__(self, damping: float) -> None:
        self.damping = damping

    def step(self, params: Params, grads: Params, hessian=None) -> Params:
        """The parameters after one update; `hessian` is over the flattened parameters."""
        names = list(params)
        gradient = np.concatenate([np.ravel(grads[p]) for p in names])
        system = hessian + self.damping * np.eye(len(gradient))
        try:
            move = np.linalg.solve(system, gradient)
        except np.linalg.LinAlgError:
            # A singular H (e.g. two parameters that always move together): the least-norm step.
            move = np.linalg.lstsq(system, gradient, rcond=None)[0]

        updated, start = {}, 0
        for p in names:
            size = int(np.size(params[p]))
            part = move[start : start + size].reshape(np.shape(params[p]))
            updated[p] = params[p] - (part if np.ndim(params[p]) else part[()])
            start += size
        return updated


# --- settings -------------------------------------------------------------------------------

OPTIMIZERS = {
    "gd": "full-batch gradient descent",
    "sgd": "stochastic gradient descent (one example per step)",
    "minibatch": "minibatch gradient descent",
    "momentum": "minibatch gradient descent with momentum",
    "newton": "Newton's method (full batch, exact Hessian)",
}


@dataclass
class TrainSettings:
    """An optimizer and its settings, and the limits of one run."""

    optimizer: str = "gd"
    learning_rate: float = 0.1
    batch_size: int | None = None  # minibatch and momentum; sgd uses 1, gd and newton all rows
    momentum: float = 0.9
    damping: float = 0.0
    steps: int = 200
    max_seconds: float = 30.0
    seed: int = 0
    # A pause after each step, so a lesson can watch a fast run unfold (slow motion).
    step_delay: float = 0.0

    def batch_for(self, rows: int) -> int:
        """The rows per step this optimizer uses on a training set of `rows` examples."""
        if self.optimizer == "sgd":
            return 1
        if self.optimizer in ("minibatch", "momentum") and self.batch_size is not None:
            return self.batch_size
        if self.optimizer == "minibatch":
            return min(32, rows)
        return rows


def check_settings(settings: TrainSettings, rows: int, parameters: int) -> None:
    """Refuse settings that cannot train, each with a sentence that says which and why."""
    if rows < 1:
        raise EngineError(
            "no rows are left to train on: the test fraction takes them all; use more "
            "samples or a smaller test fraction",
            code="empty_training_set",
        )
    if settings.optimizer not in OPTIMIZERS:
        raise EngineError(
            f"unknown optimizer {settings.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}",
            code="unknown_optimizer",
        )
    _check_positive(settings.learning_rate, "learning rate", "bad_learning_rate")
    _check_batch_size(settings, rows)
    if not _is_real(settings.momentum) or not 0.0 <= settings.momentum < 1.0:
        raise EngineError(
            f"momentum must be at least 0 and below 1, got {settings.momentum!r}",
            code="bad_momentum",
        )
    if not _is_real(settings.damping) or settings.damping < 0:
        raise EngineError(
            f"damping must be a number ≥ 0, got {settings.damping!r}", code="bad_damping"
        )
    _check_limits(settings)
    if settings.optimizer == "newton" and parameters > MAX_HESSIAN_PARAMETERS:
        raise LimitError(
            f"Newton's method needs the full Hessian, which is computed for at most "
            f"{MAX_HESSIAN_PARAMETERS} parameters; this model has {parameters:,}",
            code="too_many_parameters",
            what="hessian_parameters",
            limit=MAX_HESSIAN_PARAMETERS,
            actual=parameters,
        )


def _is_real(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_positive(value, name: str, code: str) -> None:
    if not _is_real(value) or value <= 0:
        raise EngineError(f"the {name} must be a finite number above 0, got {value!r}", code=code)


def _check_batch_size(settings: TrainSettings, rows: int) -> None:
    size = settings.batch_size
    if size is None or settings.optimizer not in ("minibatch", "momentum"):
        return
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise EngineError(
            f"the batch size must be a whole number of at least 1, got {size!r}; a batch "
            "of 0 examples has no gradient",
            code="bad_batch_size",
        )
    if size > rows:
        raise EngineError(
            f"the batch size {size} is larger than the {rows} training examples",
            code="bad_batch_size",
        )


def _check_limits(settings: TrainSettings) -> None:
    steps = settings.steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise EngineError(f"steps must be a whole number ≥ 1, got {steps!r}", code="bad_steps")
    if steps > MAX_STEPS:
        raise LimitError(
            f"a run has at most {MAX_STEPS:,} steps, asked for {steps:,}",
            what="steps",
            limit=MAX_STEPS,
            actual=steps,
        )
    _check_positive(settings.max_seconds, "time limit", "bad_time_limit")
    delay = settings.step_delay
    if not _is_real(delay) or not 0.0 <= delay <= MAX_STEP_DELAY:
        raise EngineError(
            f"the pause per step must be from 0 to {MAX_STEP_DELAY:g} s, got {delay!r}",
            code="bad_step_delay",
        )
    if settings.max_seconds > MAX_SECONDS:
        raise LimitError(
            f"a run lasts at most {MAX_SECONDS:g} s, asked for {settings.max_seconds:g} s",
            what="seconds",
            limit=MAX_SECONDS,
            actual=settings.max_seconds,
        )


def make_optimizer(settings: TrainSettings):
    """The update rule the settings name."""
    if settings.optimizer == "newton":
        return Newton(settings.damping)
    if settings.optimizer == "momentum":
        return Momentum(settings.learning_rate, settings.momentum)
    return GradientDescent(settings.learning_rate)


def batches(rows: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Row indices of each step, forever: every epoch a fresh shuffle cut into batches.

    The full batch keeps its order (shuffling changes nothing); the last batch of an epoch
    may be smaller, as with PyTorch's DataLoader.
    """
    while True:
        order = np.arange(rows) if batch_size >= rows else rng.permutation(rows)
        for start in range(0, rows, batch_size):
            yield order[start : start + batch_size]


# --- training -------------------------------------------------------------------------------


@dataclass
class Data:
    """Training rows and held-out rows."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@dataclass
class RunSummary:
    """How a run ended."""

    reason: str  # "finished", "stopped", "time_limit", "diverged"
    steps: int
    seconds: float
    loss: float | None
    train_accuracy: float | None
    test_accuracy: float | None
    message: str = ""
    extra: dict = field(default_factory=dict)


class Trainer:
    """Runs an optimizer on a model, one step at a time, and reports what happens."""

    def __init__(self, model: Model, data: Data, settings: TrainSettings) -> None:
        check_settings(settings, len(data.X), model.size)
        self.model = model
        self.data = data
        self.settings = settings
        self.optimizer = make_optimizer(settings)
        self.batch_size = settings.batch_for(len(data.X))
        self.steps_per_epoch = math.ceil(len(data.X) / self.batch_size)
        self.batches = batches(len(data.X), self.batch_size, np.random.default_rng(settings.seed))
        self.step_count = 0

    @property
    def params(self) -> Params:
        """The current parameter values by id."""
        return {p: self.model.graph.nodes[p].value for p in self.model.params}

    def _load(self, X, y) -> None:
        nodes = self.model.graph.nodes
        nodes[DATA_X].value = X
        nodes[DATA_Y].value = y

    def loss_and_grads(self, X, y) -> tuple[float, Params]:
        """The mean loss of these rows and its gradient for every parameter."""
        self._load(X, y)
        evaluation = evaluate(self.model.graph, with_local=False)
        grads = {p: _or_zeros(evaluation.grads.get(p), self.params[p]) for p in self.model.params}
        return float(evaluation.values[self.model.graph.output]), grads

    def step(self) -> float:
        """One update on the next batch; returns that batch's loss before the update."""
        rows = next(self.batches)
        X, y = self.data.X[rows], self.data.y[rows]
        loss, grads = self.loss_and_grads(X, y)
        second = None
        if self.optimizer.needs_hessian:
            _, second = hessian(self.model.graph, self.model.params)
        self.set_params(self.optimizer.step(self.params, grads, second))
        self.step_count += 1
        return loss

    def set_params(self, params: Params) -> None:
        """Write parameter values back into the graph."""
        for p, value in params.items():
            self.model.graph.nodes[p].value = value

    def forward_on(self, X, y=None) -> dict[str, Any]:
        """Every node's value for these rows (targets of zeros when none are given)."""
        if y is None:
            y = np.zeros((len(X),) + np.shape(self.data.y)[1:])
        self._load(X, y)
        with np.errstate(all="ignore"):
            values, _, _ = forward(self.model.graph)
        return values

    def loss_on(self, X, y) -> float:
        """The mean loss over these rows, parameters unchanged."""
        return float(self.forward_on(X, y)[self.model.graph.output])

    def accuracy_on(self, X, y) -> float | None:
        """The fraction of rows whose predicted class is the label; None for regression."""
        if self.model.task == "regression" or len(X) == 0:
            return None
        scores = self.forward_on(X, y)[SCORES]
        return float(np.mean(predicted_classes(scores, self.model.task) == y))

    def probabilities(self, X) -> np.ndarray:
        """P(class 1) for each row of a two-class model (the colour of a decision region)."""
        scores = self.forward_on(X)[SCORES]
        if self.model.task == "binary":
            return 1.0 / (1.0 + np.exp(-np.clip(scores, -500, 500)))
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted[:, 1] / shifted.sum(axis=1)

    def regions(self, size: int = 40) -> dict | None:
        """P(class 1) on a size×size grid over the data, for 2-D two-class data; else None."""
        if np.shape(self.data.X)[1] != 2 or self.model.task == "regression":
            return None
        if self.model.task == "multiclass" and np.shape(self._probe_scores())[1] != 2:
            return None
        bounds = data_bounds(np.concatenate([self.data.X, self.data.X_test]))
        xs = np.linspace(bounds[0], bounds[1], size)
        ys = np.linspace(bounds[2], bounds[3], size)
        grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        return {
            "size": size,
            "bounds": bounds,
            "probabilities": np.round(self.probabilities(grid), 3).tolist(),
        }

    def _probe_scores(self) -> np.ndarray:
        return self.forward_on(self.data.X[:1])[SCORES]

    def run(
        self,
        emit: Callable[[dict], None],
        should_stop: Callable[[], bool] = lambda: False,
        flush_seconds: float = 0.1,
        regions_seconds: float = 0.4,
    ) -> RunSummary:
        """Train until the steps, the time limit, a stop request or a non-finite loss.

        Emits "steps" events (losses of the steps since the last one, with progress and the
        time left), an "epoch" event after every epoch (full training loss and accuracies),
        "regions" events at most every `regions_seconds`, and returns how the run ended.
        """
        report = _Reporter(self, emit, flush_seconds, regions_seconds)
        reason, message = "finished", ""
        with np.errstate(all="ignore"):
            start_loss = self.loss_on(self.data.X, self.data.y)
            while self.step_count < self.settings.steps:
                if should_stop():
                    reason = "stopped"
                    break
                if report.elapsed() > self.settings.max_seconds:
                    reason, message = "time_limit", self._time_message()
                    break
                loss = self.step()
                report.step(loss)
                if self.settings.step_delay:
                    time.sleep(self.settings.step_delay)
                if not math.isfinite(loss):
                    reason, message = "diverged", _diverged_message(loss, self.step_count)
                    break
                if self.step_count % self.steps_per_epoch == 0:
                    report.epoch()
                    grown = _grown_message(start_loss, report.last_epoch["train_loss"], self)
                    if grown:
                        reason, message = "diverged", grown
                        break
        summary = report.finish(reason, message)
        grown = _grown_message(start_loss, summary.loss, self)
        if summary.reason == "finished" and grown:
            summary.reason, summary.message = "diverged", grown
        return summary

    def _time_message(self) -> str:
        return (
            f"stopped at the time limit of {self.settings.max_seconds:g} s after "
            f"{self.step_count:,} steps"
        )


# A full-data loss this many times the starting one means the steps overshoot and grow,
# even while every number is still finite (cross-entropy grows without overflowing). The
# floor keeps a start near 0 (a model that already fits) from calling tiny losses growth.
GROWTH_LIMIT = 1e4
GROWTH_FLOOR = 1e-3


def _grown_message(start: float, loss: float | None, trainer: Trainer) -> str | None:
    limit = GROWTH_LIMIT * max(start, GROWTH_FLOOR)
    if loss is None or not math.isfinite(loss) or loss <= limit:
        return None
    return (
        f"the training loss grew from {start:.4g} to {loss:.4g} by step {trainer.step_count}: "
        "the updates overshoot and grow; try a smaller learning rate"
    )


def _diverged_message(loss: float, step: int) -> str:
    return (
        f"the loss became {loss} at step {step}: the updates overshoot and grow; "
        "try a smaller learning rate"
    )


class _Reporter:
    """Turns the steps of a run into a few events per second."""

    def __init__(self, trainer: Trainer, emit, flush_seconds: float, regions_seconds: float):
        self.trainer = trainer
        self.emit = emit
        self.flush_seconds = flush_seconds
        self.regions_seconds = regions_seconds
        self.start = time.perf_counter()
        self.last_flush = self.start
        self.last_regions = -math.inf
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.last_epoch = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def step(self, loss: float) -> None:
        self.steps.append(self.trainer.step_count)
        self.losses.append(loss)
        if time.perf_counter() - self.last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        if not self.steps:
            return
        elapsed = self.elapsed()
        done = self.trainer.step_count
        total = self.trainer.settings.steps
        limit = self.trainer.settings.max_seconds
        time_left = min(limit - elapsed, (total - done) * elapsed / max(done, 1))
        self.emit(
            {
                "type": "steps",
                "steps": self.steps,
                "losses": self.losses,
                "elapsed": elapsed,
                "progress": min(1.0, max(done / total, elapsed / limit)),
                "time_left": max(0.0, time_left),
            }
        )
        self.steps, self.losses = [], []
        self.last_flush = time.perf_counter()

    def epoch(self) -> None:
        self.flush()
        trainer, data = self.trainer, self.trainer.data
        self.last_epoch = {
            "type": "epoch",
            "epoch": trainer.step_count // trainer.steps_per_epoch,
            "step": trainer.step_count,
            "train_loss": trainer.loss_on(data.X, data.y),
            "train_accuracy": trainer.accuracy_on(data.X, data.y),
            "test_accuracy": trainer.accuracy_on(data.X_test, data.y_test),
        }
        self.emit(self.last_epoch)
        if time.perf_counter() - self.last_regions >= self.regions_seconds:
            self.regions()

    def regions(self) -> None:
        grid = self.trainer.regions()
        self.last_regions = time.perf_counter()
        if grid is not None:
            self.emit({"type": "regions", "step": self.trainer.step_count, **grid})

    def finish(self, reason: str, message: str) -> RunSummary:
        self.flush()
        trainer = self.trainer
        if reason != "diverged":
            if self.last_epoch is None or self.last_epoch["step"] != trainer.step_count:
                self.epoch()
            self.regions()
        last = self.last_epoch or {}
        # A run that diverged to a non-finite loss has no loss to show; one stopped because
        # the loss grew has just measured it, at this very step.
        current = reason != "diverged" or last.get("step") == trainer.step_count
        return RunSummary(
            reason=reason,
            steps=trainer.step_count,
            seconds=self.elapsed(),
            loss=last.get("train_loss") if current else math.nan,
            train_accuracy=last.get("train_accuracy"),
            test_accuracy=last.get("test_accuracy"),
            message=message,
        )


def predicted_classes(scores, task: str) -> np.ndarray:
    """The class each row of scores picks: the largest score, or logit > 0 for one logit."""
    if task == "binary":
        return (np.asarray(scores) > 0).astype(float)
    return np.argmax(scores, axis=1).astype(float)


def data_bounds(X, margin: float = 0.1) -> list[float]:
    """[x_min, x_max, y_min, y_max] of 2-D points, widened by `margin` of each range."""
    low, high = X.min(axis=0), X.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-9)
    return [float(low[0] - pad[0]), float(high[0] + pad[0]), float(low[1] - pad[1]),
            float(high[1] + pad[1])]  # fmt: skip


def _or_zeros(grad, like):
    return np.zeros(np.shape(like)) if grad is None else grad


# --- the loss surface of a 2-parameter model ------------------------------------------------

SURFACE_OPTIMIZERS = ("gd", "sgd", "minibatch", "newton")


def loss_surface(
    X, y, start=(-1.0, 2.5), learning_rate: float = 0.1, batch_size: int = 8,
    steps: int = 25, seed: int = 0, grid: int = 41,
) -> dict:  # fmt: skip
    """The loss of the 1-D linear regression ŷ = w·x + b over (w, b), and the path each of
    gradient descent, SGD, minibatch and Newton takes from the same start."""
    if not 1 <= steps <= 200:
        # The one limit with a floor: a path of 0 steps is refused here too.
        raise LimitError(
            f"the surface paths have 1 to 200 steps, asked for {steps}",
            what="steps",
            limit=200,
            actual=steps,
            minimum=1,
        )
    data = Data(X, y, X[:0], y[:0])
    paths = {
        name: _path(X, y, data, name, start, learning_rate, batch_size, steps, seed)
        for name in SURFACE_OPTIMIZERS
    }
    minimum = paths["newton"]["points"][-1]
    bounds = _surface_bounds(start, minimum)
    w_values = np.linspace(bounds[0], bounds[1], grid)
    b_values = np.linspace(bounds[2], bounds[3], grid)

    trainer = Trainer(build_model(X, y, "linear", "mse"), data, TrainSettings("gd", steps=1))
    losses = []
    for b in b_values:
        row = []
        for w in w_values:
            trainer.set_params({"Wout": np.array([w]), "bout": np.float64(b)})
            row.append(trainer.loss_on(X, y))
        losses.append(row)
    return {
        "bounds": bounds,
        "w": w_values.tolist(),
        "b": b_values.tolist(),
        "losses": losses,
        "minimum": minimum,
        "paths": paths,
    }


def _path(X, y, data, name, start, learning_rate, batch_size, steps, seed) -> dict:
    model = build_model(X, y, "linear", "mse")
    settings = TrainSettings(
        name, learning_rate, batch_size if name == "minibatch" else None, steps=steps, seed=seed
    )
    trainer = Trainer(model, data, settings)
    trainer.set_params({"Wout": np.array([float(start[0])]), "bout": np.float64(start[1])})
    points = [_point(trainer)]
    losses = [trainer.loss_on(X, y)]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            trainer.step()
            points.append(_point(trainer))
            losses.append(trainer.loss_on(X, y))
            if not math.isfinite(losses[-1]):
                break
    return {"points": points, "losses": losses, "label": OPTIMIZERS[name]}


def _point(trainer: Trainer) -> list[float]:
    params = trainer.params
    return [float(params["Wout"][0]), float(params["bout"])]


def _surface_bounds(start, minimum) -> list[float]:
    # Centred on the minimum, wide enough to show the start with some room around it.
    half = [max(1.0, 1.4 * abs(s - m)) for s, m in zip(start, minimum, strict=True)]
    return [minimum[0] - half[0], minimum[0] + half[0], minimum[1] - half[1], minimum[1] + half[1]]
