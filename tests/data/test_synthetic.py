import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unpaired.data import synthetic
from unpaired.data.synthetic import SyntheticSpec, ensure, generate, render
from unpaired.errors import ConfigError, DataError

SPEC = SyntheticSpec(image_size=32, n_train=6, n_test=4, seed=3)
FOLDERS = ["testA", "testA_true", "testB", "testB_true", "trainA", "trainB"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "set"
    generate(root, SPEC)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.int32)


def test_layout_sizes_and_counts(generated: Path) -> None:
    assert sorted(p.name for p in generated.iterdir()) == sorted([*FOLDERS, "spec.json"])
    for folder in FOLDERS:
        count = SPEC.n_train if folder.startswith("train") else SPEC.n_test
        names = sorted(p.name for p in (generated / folder).iterdir())
        assert names == [f"{i:04d}.png" for i in range(count)]
        image = Image.open(generated / folder / "0000.png")
        assert image.mode == "RGB" and image.size == (32, 32)
    record = json.loads((generated / "spec.json").read_text())
    assert record["image_size"] == 32 and record["seed"] == 3


def test_same_seed_gives_identical_bytes(generated: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", SPEC)
    assert _files(tmp_path / "again") == _files(generated)


def test_other_seed_differs(generated: Path, tmp_path: Path) -> None:
    generate(tmp_path / "other", SyntheticSpec(image_size=32, n_train=6, n_test=4, seed=4))
    other = _files(tmp_path / "other")
    same = [name for name, data in _files(generated).items() if other[name] == data]
    assert same == []


def test_domain_a_is_light_and_b_is_dark(generated: Path) -> None:
    mean_a = np.mean([_pixels(p).mean() for p in (generated / "trainA").iterdir()])
    mean_b = np.mean([_pixels(p).mean() for p in (generated / "trainB").iterdir()])
    assert mean_a > 170 and mean_b < 80


def test_domain_a_is_warm_and_b_is_cool(generated: Path) -> None:
    a = np.concatenate([_pixels(p).reshape(-1, 3) for p in (generated / "trainA").iterdir()])
    b = np.concatenate([_pixels(p).reshape(-1, 3) for p in (generated / "trainB").iterdir()])
    shapes_a = a[a.min(axis=1) < 128]  # the cream background has every channel high
    shapes_b = b[b.max(axis=1) > 80]  # the navy background has every channel low
    assert np.all(shapes_a[:, 0] >= shapes_a[:, 2])  # red over blue
    assert np.all(shapes_b[:, 0] <= shapes_b[:, 2])  # blue over red
    assert np.all(shapes_b[:, 0] <= shapes_b[:, 1])  # green over red


@pytest.mark.parametrize(("source", "truth"), [("testA", "testA_true"), ("testB", "testB_true")])
def test_truths_cover_the_same_shapes(generated: Path, source: str, truth: str) -> None:
    for index in range(SPEC.n_test):
        name = f"{index:04d}.png"
        a_path, b_path = (generated / source / name, generated / truth / name)
        if source == "testB":
            a_path, b_path = b_path, a_path
        mask_a = _pixels(a_path).min(axis=2) < 128
        mask_b = _pixels(b_path).max(axis=2) > 80
        assert mask_a.any()
        assert np.array_equal(mask_a, mask_b)


def test_train_domains_are_not_paired(generated: Path) -> None:
    mask_a = _pixels(generated / "trainA" / "0000.png").min(axis=2) < 128
    mask_b = _pixels(generated / "trainB" / "0000.png").max(axis=2) > 80
    assert not np.array_equal(mask_a, mask_b)


def test_render_outline_is_darker_fill() -> None:
    shape = synthetic.Shape("rectangle", (0.25, 0.25, 0.75, 0.75), hue=20, saturation=1, value=1)
    scene = synthetic.Scene(background=0.5, shapes=(shape,))
    b = np.asarray(render(scene, "B", 64), dtype=np.int32)
    fill = np.array(synthetic.fill_colour(shape, "B"))
    assert np.array_equal(b[32, 32], fill)
    assert np.abs(b[16, 32] - 0.45 * fill).max() <= 1  # top edge: outline
    assert np.abs(b[17, 32] - 0.45 * fill).max() <= 1  # 2 px wide at 64 px
    assert np.array_equal(b[18, 32], fill)
    assert np.array_equal(np.asarray(render(scene, "A", 64))[16, 32], [255, 85, 0])


def test_generate_does_not_clobber_an_existing_root(tmp_path: Path) -> None:
    root = tmp_path / "set"
    root.mkdir()
    (root / "mine.txt").write_text("keep me")
    generate(root, SPEC)
    assert [p.name for p in root.iterdir()] == ["mine.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["set"]  # no temporary folder left behind


def test_generate_into_an_empty_root(tmp_path: Path) -> None:
    (tmp_path / "set").mkdir()
    generate(tmp_path / "set", SPEC)
    assert (tmp_path / "set" / "spec.json").is_file()


def test_ensure_generates_once_then_checks(tmp_path: Path) -> None:
    root = tmp_path / "nested" / "set"
    ensure(root, SPEC)
    stamp = (root / "trainA" / "0000.png").stat().st_mtime_ns
    ensure(root, SPEC)
    assert (root / "trainA" / "0000.png").stat().st_mtime_ns == stamp


def test_ensure_with_another_spec_says_what_to_do(tmp_path: Path) -> None:
    root = tmp_path / "set"
    ensure(root, SPEC)
    with pytest.raises(DataError, match="Delete the folder") as error:
        ensure(root, SyntheticSpec(image_size=32, n_train=6, n_test=4, seed=5))
    assert str(root) in str(error.value) and "data.root" in str(error.value)


def test_ensure_refuses_a_folder_of_other_files(tmp_path: Path) -> None:
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "mine.txt").write_text("keep me")
    with pytest.raises(DataError, match=r"no spec\.json"):
        ensure(tmp_path / "set", SPEC)
    assert (tmp_path / "set" / "mine.txt").read_text() == "keep me"


def test_racing_processes_leave_one_complete_set(generated: Path, tmp_path: Path) -> None:
    root = tmp_path / "set"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=ensure, args=(root, SPEC)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert _files(root) == _files(generated)
    assert [p.name for p in tmp_path.iterdir()] == ["set"]


@pytest.mark.parametrize("bad", [{"image_size": 4}, {"n_train": 0}, {"n_test": -1}])
def test_spec_rejects_degenerate_values(bad: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match=f"data\\.{next(iter(bad))}"):
        SyntheticSpec(**bad)


def test_default_spec() -> None:
    assert SyntheticSpec() == SyntheticSpec(image_size=64, n_train=400, n_test=50, seed=0)
