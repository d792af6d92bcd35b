"""Training: optimizer updates against hand-computed steps, exact Hessians against PyTorch,
and the convergence facts of the course (Newton on quadratics and logistic regression, SGD's
noise)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine import datasets
from engine.errors import EngineError, LimitError
from engine.hessian import hessian
from engine.train import (
    Data,
    GradientDescent,
    Momentum,
    Newton,
    Trainer,
    TrainSettings,
    batches,
    build_model,
    model_from_spec,
)

# A two-row regression small enough to differentiate by hand:
# ŷ = X·w + b with X = [[1], [2]], y = [1, 3], w = 0.5, b = 0.
TINY_X = np.array([[1.0], [2.0]])
TINY_Y = np.array([1.0, 3.0])


def tiny_model(w: float = 0.5, b: float = 0.0):
    spec = {
        "nodes": [
            {"id": "X", "op": "const", "value": TINY_X},
            {"id": "y", "op": "const", "value": TINY_Y},
            {"id": "w", "op": "input", "value": np.array([w])},
            {"id": "b", "op": "input", "value": b},
            {"id": "xw", "op": "matmul", "inputs": ["X", "w"]},
            {"id": "scores", "op": "add", "inputs": ["xw", "b"]},
            {"id": "loss", "op": "mse", "inputs": ["scores", "y"]},
        ],
        "output": "loss",
    }
    return model_from_spec(spec, "regression")


def tiny_trainer(optimizer: str, **settings) -> Trainer:
    data = Data(TINY_X, TINY_Y, TINY_X[:0], TINY_Y[:0])
    return Trainer(tiny_model(), data, TrainSettings(optimizer, **settings))


def flat(params: dict) -> np.ndarray:
    return np.concatenate([np.ravel(value) for value in params.values()])


def test_tiny_model_gradient_matches_hand_computation():
    # residuals r = ŷ − y = [−0.5, −2]; dL/dw = (2/2)·Σ r·x = −4.5; dL/db = Σ r = −2.5
    trainer = tiny_trainer("gd")

    loss, grads = trainer.loss_and_grads(TINY_X, TINY_Y)

    assert loss == pytest.approx((0.25 + 4.0) / 2)
    assert grads["w"] == pytest.approx([-4.5])
    assert grads["b"] == pytest.approx(-2.5)


def test_gradient_descent_step_matches_hand_computation():
    trainer = tiny_trainer("gd", learning_rate=0.1)

    trainer.step()

    # w = 0.5 − 0.1·(−4.5) = 0.95, b = 0 − 0.1·(−2.5) = 0.25
    assert flat(trainer.params) == pytest.approx([0.95, 0.25])


def test_momentum_second_step_adds_the_kept_velocity():
    optimizer = Momentum(learning_rate=0.1, momentum=0.9)
    params = {"w": np.array([1.0])}

    first = optimizer.step(params, {"w": np.array([2.0])})
    second = optimizer.step(first, {"w": np.array([-1.0])})

    # v1 = 2, θ1 = 1 − 0.2 = 0.8; v2 = 0.9·2 − 1 = 0.8, θ2 = 0.8 − 0.08 = 0.72
    assert first["w"] == pytest.approx([0.8])
    assert second["w"] == pytest.approx([0.72])


def test_momentum_matches_torch_sgd_with_momentum():
    trainer = tiny_trainer("momentum", learning_rate=0.05, momentum=0.9, batch_size=2)
    w = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    reference = torch.optim.SGD([w, b], lr=0.05, momentum=0.9)
    X, y = torch.tensor(TINY_X), torch.tensor(TINY_Y)

    for _ in range(5):
        trainer.step()
        reference.zero_grad()
        torch.nn.functional.mse_loss(X @ w + b, y).backward()
        reference.step()

    assert flat(trainer.params) == pytest.approx([w.item(), b.item()], rel=1e-12)


def test_newton_step_matches_hand_computation():
    # L(w) = (w − 3)²: gradient 2(w − 3) = −4 at w = 1, Hessian 2.
    params, grads, second = {"w": np.float64(1.0)}, {"w": np.float64(-4.0)}, np.array([[2.0]])

    undamped = Newton(damping=0.0).step(params, grads, second)
    damped = Newton(damping=2.0).step(params, grads, second)

    assert undamped["w"] == pytest.approx(3.0)  # 1 − (−4)/2
    assert damped["w"] == pytest.approx(2.0)  # 1 − (−4)/(2 + 2)


def test_gradient_descent_class_follows_figure_2_1():
    params = GradientDescent(0.5).step({"a": np.array([1.0, 2.0])}, {"a": np.array([2.0, -2.0])})

    assert params["a"] == pytest.approx([0.0, 3.0])


@pytest.mark.parametrize(
    ("kind", "loss", "activation"),
    [
        ("linear", "logistic", "tanh"),
        ("mlp", "cross_entropy", "tanh"),
        ("mlp", "logistic", "sigmoid"),
        ("mlp", "cross_entropy", "relu"),
    ],
)
def test_hessian_matches_torch(kind, loss, activation):
    X, y = datasets.two_moons(24, 0.2, seed=3)
    model = build_model(X, y, kind, loss, (3,), activation, seed=1)
    values = [torch.tensor(np.asarray(model.graph.nodes[p].value)) for p in model.params]
    sizes = [v.numel() for v in values]
    act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[activation]

    def reference(flat_params):
        parts = dict(zip(model.params, torch.split(flat_params, sizes), strict=True))
        shaped = {p: parts[p].reshape(v.shape) for p, v in zip(model.params, values, strict=True)}
        hidden = torch.tensor(X)
        if kind == "mlp":
            hidden = act(hidden @ shaped["W1"] + shaped["b1"])
        scores = hidden @ shaped["Wout"] + shaped["bout"]
        if loss == "logistic":
            return torch.nn.functional.binary_cross_entropy_with_logits(scores, torch.tensor(y))
        return torch.nn.functional.cross_entropy(scores, torch.tensor(y).long())

    start = torch.cat([v.reshape(-1) for v in values])
    expected = torch.autograd.functional.hessian(reference, start).numpy()

    gradient, second = hessian(model.graph, model.params)

    assert second == pytest.approx(expected, abs=1e-12)
    assert second == pytest.approx(second.T, abs=1e-12)
    assert len(gradient) == sum(sizes)


def test_newton_minimises_a_quadratic_in_one_step():
    X, y = datasets.line(40, noise=0.5, seed=0)
    model = build_model(X, y, "linear", "mse")
    model.graph.nodes["Wout"].value = np.array([-3.0])
    model.graph.nodes["bout"].value = np.float64(4.0)
    trainer = Trainer(model, Data(X, y, X[:0], y[:0]), TrainSettings("newton", steps=1))

    trainer.step()

    # The least-squares line from numpy's own solver is the minimum of the mse.
    design = np.hstack([X, np.ones((len(X), 1))])
    expected = np.linalg.lstsq(design, y, rcond=None)[0]
    assert flat(trainer.params) == pytest.approx(expected, abs=1e-10)


def logistic_loss_after(optimizer: str, steps: int, learning_rate: float = 0.1) -> float:
    X, y = datasets.blobs(200, noise=0.9, seed=0)
    model = build_model(X, y, "linear", "logistic")
    model.graph.nodes["Wout"].value = np.zeros(2)
    trainer = Trainer(model, Data(X, y, X[:0], y[:0]), TrainSettings(optimizer, learning_rate))
    for _ in range(steps):
        trainer.step()
    return trainer.loss_on(X, y)


def test_blobs_with_noise_are_separable_but_noisy():
    # A line separates most points (the set is made for a linear model), yet not all of them:
    # the logistic loss then has a finite minimum for Newton to reach.
    X, y = datasets.blobs(200, noise=0.9, seed=0)
    model = build_model(X, y, "linear", "logistic")
    trainer = Trainer(model, Data(X, y, X[:0], y[:0]), TrainSettings("newton", steps=20))
    for _ in range(20):
        trainer.step()

    assert 0.9 < trainer.accuracy_on(X, y) < 1.0


def test_newton_beats_gradient_descent_on_logistic_regression():
    newton = logistic_loss_after("newton", 10)
    descents = {rate: logistic_loss_after("gd", 100, rate) for rate in (0.1, 0.3, 1.0, 3.0)}

    assert all(newton < loss for loss in descents.values()), (newton, descents)


def test_sgd_loss_curve_is_noisier_than_full_batch():
    X, y = datasets.two_moons(200, noise=0.15, seed=0)
    curves = {}
    for optimizer in ("gd", "sgd"):
        model = build_model(X, y, "mlp", "cross_entropy", (8,), seed=0)
        trainer = Trainer(model, Data(X, y, X[:0], y[:0]), TrainSettings(optimizer, 0.1))
        curves[optimizer] = [trainer.step() for _ in range(200)]

    def jitter(losses):
        return float(np.var(np.diff(losses)))

    assert jitter(curves["sgd"]) > 100 * jitter(curves["gd"])


def test_mlp_learns_two_moons():
    X, y = datasets.two_moons(200, noise=0.1, seed=0)
    X_train, y_train, X_test, y_test = datasets.split(X, y, 0.25, seed=0)
    model = build_model(X_train, y_train, "mlp", "cross_entropy", (16, 16), seed=0)
    settings = TrainSettings("momentum", 0.1, batch_size=16, steps=600)
    trainer = Trainer(model, Data(X_train, y_train, X_test, y_test), settings)

    summary = trainer.run(lambda event: None)

    assert summary.reason == "finished"
    assert summary.test_accuracy >= 0.9


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        (TrainSettings("gd", learning_rate=math.nan), "bad_learning_rate"),
        (TrainSettings("gd", learning_rate=-0.1), "bad_learning_rate"),
        (TrainSettings("minibatch", batch_size=0), "bad_batch_size"),
        (TrainSettings("minibatch", batch_size=3), "bad_batch_size"),
        (TrainSettings("adam"), "unknown_optimizer"),
        (TrainSettings("momentum", momentum=1.0), "bad_momentum"),
        (TrainSettings("newton", damping=-1.0), "bad_damping"),
        (TrainSettings("gd", steps=0), "bad_steps"),
    ],
)
def test_trainer_refuses_bad_settings(settings, code):
    with pytest.raises(EngineError) as caught:
        tiny_trainer(
            settings.optimizer, **{k: v for k, v in vars(settings).items() if k != "optimizer"}
        )

    assert caught.value.code == code
    assert caught.value.message


def test_trainer_refuses_newton_for_a_large_model():
    X, y = datasets.two_moons(40, 0.1, seed=0)
    model = build_model(X, y, "mlp", "cross_entropy", (64, 64), seed=0)

    with pytest.raises(LimitError, match="at most 300 parameters"):
        Trainer(model, Data(X, y, X[:0], y[:0]), TrainSettings("newton"))


def test_run_stops_when_asked():
    trainer = tiny_trainer("gd", learning_rate=0.01, steps=1000)
    events = []

    summary = trainer.run(events.append, should_stop=lambda: trainer.step_count >= 7)

    assert summary.reason == "stopped"
    assert summary.steps == 7
    assert [s for e in events if e["type"] == "steps" for s in e["steps"]] == list(range(1, 8))


def test_run_reports_divergence():
    trainer = tiny_trainer("gd", learning_rate=10.0, steps=2000)

    summary = trainer.run(lambda event: None)

    assert summary.reason == "diverged"
    assert "smaller learning rate" in summary.message
    assert summary.steps < 2000


def test_run_whose_finite_loss_explodes_is_called_diverged():
    # Cross-entropy grows linearly in the logits, so a huge step never overflows it.
    X, y = datasets.two_moons(100, noise=0.1, seed=0)
    model = build_model(X, y, "mlp", "cross_entropy", (8,), seed=0)
    settings = TrainSettings("gd", learning_rate=1e6, steps=50)
    trainer = Trainer(model, Data(X, y, X[:0], y[:0]), settings)
    start = trainer.loss_on(X, y)

    summary = trainer.run(lambda event: None)

    assert summary.reason == "diverged"
    assert math.isfinite(summary.loss) and summary.loss > 1e4 * start
    assert "grew from" in summary.message and "smaller learning rate" in summary.message


def test_run_ends_at_its_time_limit():
    trainer = tiny_trainer("gd", learning_rate=0.01, steps=20_000, max_seconds=0.05)

    summary = trainer.run(lambda event: None)

    assert summary.reason == "time_limit"
    assert 0.05 <= summary.seconds < 1.0


def test_run_reports_epochs_and_regions_for_2d_data():
    X, y = datasets.circles(80, 0.05, seed=1)
    model = build_model(X, y, "mlp", "logistic", (8,), seed=0)
    trainer = Trainer(
        model, Data(X, y, X[:20], y[:20]), TrainSettings("minibatch", 0.3, 20, steps=8)
    )
    events = []

    trainer.run(events.append)

    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]  # 80 rows / 20 per batch = 4 steps per epoch
    grid = next(e for e in events if e["type"] == "regions")
    assert len(grid["probabilities"]) == grid["size"] ** 2
    assert all(0.0 <= p <= 1.0 for p in grid["probabilities"])


def test_batches_cover_every_row_once_per_epoch():
    stream = batches(10, 3, np.random.default_rng(0))

    epoch = [next(stream) for _ in range(4)]

    assert [len(b) for b in epoch] == [3, 3, 3, 1]
    assert sorted(np.concatenate(epoch).tolist()) == list(range(10))


@pytest.mark.parametrize("maker", sorted(datasets.TOY_SETS))
def test_toy_sets_are_reproducible_from_their_seed(maker):
    make = datasets.TOY_SETS[maker]

    X1, y1 = make(50, 0.1, 7)
    X2, y2 = make(50, 0.1, 7)
    X3, _ = make(50, 0.1, 8)

    assert X1.shape == (50, 2)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert sorted(set(y1.tolist())) == [0.0, 1.0]


def test_split_holds_out_the_asked_fraction():
    X, y = datasets.two_moons(100, 0.1, seed=0)

    X_train, y_train, X_test, y_test = datasets.split(X, y, 0.2, seed=0)

    assert len(X_test) == 20 and len(X_train) == 80
    rows = {tuple(row) for row in np.concatenate([X_train, X_test])}
    assert rows == {tuple(row) for row in X}
