"""The VGG feature networks: layers by name, truncation, frozen eval mode, each anchor's input
normalisation, and weights read from a file or torch hub's cache, never downloaded."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from unpaired.errors import ConfigError
from unpaired.nn.vgg import VGGFeatures, weights_file_name


def test_layer_names_follow_the_blocks_and_the_network_stops_at_the_last_one() -> None:
    vgg = VGGFeatures("vgg16", ["relu2_2", "relu1_2", "relu3_3"], weights="random")
    assert vgg.layers == ("relu1_2", "relu2_2", "relu3_3")  # network order
    convs = [n for n in vgg.names if n.startswith("conv")]
    assert convs == ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3"]
    assert vgg.names[-1] == "relu3_3" and "pool2" in vgg.names
    # torchvision's indices: relu3_3 is features[15]
    assert len(vgg.features) == 16


def test_vgg19_has_the_papers_layers_and_conv_outputs_are_not_rectified() -> None:
    vgg = VGGFeatures("vgg19", ["conv4_2", "relu4_2", "conv5_1"], weights="random")
    assert sum(isinstance(m, nn.Conv2d) for m in vgg.features) == 13  # conv5_1 is the 13th
    out = vgg(torch.rand(1, 3, 32, 32))
    assert list(out) == ["conv4_2", "relu4_2", "conv5_1"]
    assert (out["conv4_2"] < 0).any()  # an in-place ReLU would have rectified it
    torch.testing.assert_close(out["relu4_2"], out["conv4_2"].clamp_min(0))


def test_the_normalised_vgg19_has_the_adain_authors_layout() -> None:
    vgg = VGGFeatures("vgg19_normalised", ["relu4_1"], weights="random")
    assert len(vgg.features) == 31  # their vgg[:31]
    assert isinstance(vgg.features[0], nn.Conv2d) and vgg.features[0].kernel_size == (1, 1)
    assert isinstance(vgg.features[1], nn.ReflectionPad2d)
    pools = [m for m in vgg.features if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 3 and all(p.ceil_mode for p in pools)


def test_input_normalisation_is_imagenets_except_for_the_normalised_vgg19() -> None:
    torchvision_vgg = VGGFeatures("vgg16", ["conv1_1"], weights="random")
    images = torch.rand(2, 3, 8, 8)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    expected = torchvision_vgg.features[0]((images - mean) / std)
    torch.testing.assert_close(torchvision_vgg(images)["conv1_1"], expected)
    normalised = VGGFeatures("vgg19_normalised", ["preprocess"], weights="random")
    torch.testing.assert_close(normalised(images)["preprocess"], normalised.features[0](images))


def test_frozen_and_always_in_eval_mode() -> None:
    vgg = VGGFeatures("vgg16", ["relu1_2"], weights="random")
    nn.Sequential(vgg).train()
    assert not vgg.training
    assert not any(p.requires_grad for p in vgg.parameters())


def test_an_unknown_layer_is_one_error_listing_the_layers() -> None:
    with pytest.raises(ConfigError, match=r"no layer.*relu9_9.*conv1_1"):
        VGGFeatures("vgg16", ["relu9_9"], weights="random")
    with pytest.raises(ConfigError, match="arch"):
        VGGFeatures("vgg11", ["relu1_1"], weights="random")


def test_weights_are_read_from_a_torchvision_state_dict_file(tmp_path: Path) -> None:
    source = VGGFeatures("vgg16", ["relu5_3"], weights="random")
    state = {f"features.{k}": v + 1 for k, v in source.features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # the full model's other entries: ignored
    path = tmp_path / "vgg16-397923af.pth"
    torch.save(state, path)
    loaded = VGGFeatures("vgg16", ["relu2_2"], weights=path)
    torch.testing.assert_close(loaded.features[0].weight, source.features[0].weight + 1)


def test_weights_are_found_in_torch_hubs_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    source = VGGFeatures("vgg19_normalised", ["relu5_4"], weights="random")
    (tmp_path / "checkpoints").mkdir()
    torch.save(source.features.state_dict(), tmp_path / "checkpoints" / "vgg_normalised.pth")
    loaded = VGGFeatures("vgg19_normalised", ["relu1_1"])
    torch.testing.assert_close(loaded.features[2].weight, source.features[2].weight)


def test_missing_weights_name_the_url_the_file_and_where_to_put_it(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    name = weights_file_name("vgg19")
    with pytest.raises(ConfigError) as caught:
        VGGFeatures("vgg19", ["relu1_1"])
    message = str(caught.value)
    assert f"https://download.pytorch.org/models/{name}" in message
    assert str(tmp_path / "checkpoints" / name) in message and "never downloaded" in message
    with pytest.raises(ConfigError, match=r"no such file.*vgg_normalised\.pth"):
        VGGFeatures("vgg19_normalised", ["relu1_1"], weights=tmp_path / "absent.pth")


def test_a_file_of_another_network_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "wrong.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, path)
    with pytest.raises(ConfigError, match="not a vgg16 state dict"):
        VGGFeatures("vgg16", ["relu1_1"], weights=path)


def test_average_pooling_replaces_each_max_pooling_with_the_same_window_and_weights() -> None:
    """Gatys et al.'s VGG-19: average pooling where the trained network max-pools."""
    torch.manual_seed(0)
    trained = VGGFeatures("vgg19", ["conv2_1"], weights="random")
    average = VGGFeatures("vgg19", ["relu1_2", "pool1", "conv2_1"], "random", pooling="average")
    average.load_state_dict(trained.state_dict())  # pooling holds no weights
    pools = [layer for layer in average.features if "Pool" in type(layer).__name__]
    assert [type(p).__name__ for p in pools] == ["AvgPool2d"]
    images = torch.rand(1, 3, 16, 16)
    features = average(images)
    torch.testing.assert_close(features["pool1"], F.avg_pool2d(features["relu1_2"], 2))
    assert not torch.allclose(features["conv2_1"], trained(images)["conv2_1"])
    with pytest.raises(ConfigError, match="pooling='mean'"):
        VGGFeatures("vgg19", ["conv1_1"], "random", pooling="mean")
