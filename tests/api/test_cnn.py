"""LeNet-5 on a real digit, against the same network in PyTorch with the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.cnn import digit_image, lenet5_spec


def torch_lenet(spec: dict, image: np.ndarray, label: int):
    weights = {
        n["id"]: torch.tensor(n["value"], requires_grad=True)
        for n in spec["nodes"]
        if n["op"] == "input"
    }
    x = weights["image"]
    x = F.avg_pool2d(torch.tanh(F.conv2d(x, weights["C1_W"], weights["C1_b"])), 2)
    x = F.avg_pool2d(torch.tanh(F.conv2d(x, weights["C3_W"], weights["C3_b"])), 2)
    x = torch.tanh(F.conv2d(x, weights["C5_W"], weights["C5_b"])).flatten()
    x = torch.tanh(weights["F6_W"] @ x + weights["F6_b"])
    logits = weights["OUT_W"] @ x + weights["OUT_b"]
    loss = F.cross_entropy(logits, torch.tensor(label))
    loss.backward()
    return loss, torch.softmax(logits, 0), weights


@pytest.mark.parametrize("digit", [0, 7])
def test_lenet5_matches_pytorch_with_the_same_weights(client, digit):
    body = client.post("/api/cnn/lenet5", json={"digit": digit}).json()
    loss, probabilities, weights = torch_lenet(lenet5_spec(digit_image(digit), digit),
                                               digit_image(digit), digit)  # fmt: skip

    np.testing.assert_allclose(body["loss"], loss.item(), rtol=1e-10)
    np.testing.assert_allclose(body["probabilities"], probabilities.detach(), rtol=1e-10)
    np.testing.assert_allclose(body["input"]["grad"], weights["image"].grad, rtol=1e-8,
                               atol=1e-14)  # fmt: skip
    np.testing.assert_allclose(body["kernels"]["C1"]["grad"], weights["C1_W"].grad, rtol=1e-8,
                               atol=1e-14)  # fmt: skip


def test_lenet5_reports_course_shapes_and_parameter_count(client, cases):
    case = next(c for c in cases if c["id"] == "anchor_lenet5_shapes")
    body = client.post("/api/cnn/lenet5", json={"digit": 3}).json()
    assert body["total_params"] == case["expected"]["total_params"]
    shapes = {layer["name"]: layer["shape"] for layer in body["layers"]}
    for expected in case["expected"]["layers"]:
        if expected["name"] in shapes:
            assert shapes[expected["name"]] == expected["output_shape"]


def test_lenet5_refuses_a_digit_out_of_range(client):
    response = client.post("/api/cnn/lenet5", json={"digit": 12})
    assert response.status_code == 422
