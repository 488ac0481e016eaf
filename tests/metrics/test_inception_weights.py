"""The FID Inception weights: a given file, torch hub's cache, or an error saying what to get."""

import pickle

import pytest
import torch

from unpaired.errors import CheckpointError, ConfigError
from unpaired.metrics import inception
from unpaired.metrics.inception import InceptionFeatures, resolve_weights

URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    "weights-inception-2015-12-05-6726825d.pth"
)


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    return hub


def test_without_file_or_cache_the_error_names_the_url_the_cache_path_and_the_option(empty_hub):
    with pytest.raises(ConfigError) as error:
        resolve_weights(None)
    message = str(error.value)
    assert URL in message
    assert str(empty_hub / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth") in message
    assert "metrics.inception_weights=" in message


def test_a_missing_given_file_is_named(tmp_path, empty_hub):
    with pytest.raises(ConfigError, match=r"metrics.inception_weights=.*nothing.pth: no such"):
        resolve_weights(tmp_path / "nothing.pth")


def test_the_torch_hub_cache_is_used_when_no_file_is_given(empty_hub, random_inception_weights):
    cached = empty_hub / "checkpoints" / random_inception_weights.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(random_inception_weights.read_bytes())
    assert resolve_weights(None) == cached


def test_the_given_file_builds_the_network_with_those_weights(random_inception_weights):
    features = InceptionFeatures(random_inception_weights)
    expected = torch.load(random_inception_weights, weights_only=True)
    for name, value in features.network.state_dict().items():
        assert torch.equal(value, expected[name]), name
    images = torch.randint(0, 256, (2, 3, 32, 48), dtype=torch.uint8)
    assert features(images).shape == (2, inception.FEATURES)


def test_a_weights_file_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    path.write_bytes(pickle.dumps(print, protocol=2))  # a callable, which unpickling would call
    with pytest.raises(CheckpointError, match="refusing to load"):
        InceptionFeatures(path)
