"""The multimodal protocol of StarGAN v2's paper in ``unpaired-evaluate``: every source -> target
pair, K outputs per image latent- and reference-guided, FID and LPIPS diversity per pair and
their mean, recorded in results.json and shown on the page; and on the three-style synthetic
set, every pair's translation against its truth."""

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from PIL import Image

from unpaired.cli.evaluate import evaluate, flat_metrics
from unpaired.data.domains import DomainImages
from unpaired.data.stargan_v2 import StyledSyntheticDataModule
from unpaired.errors import ConfigError
from unpaired.evaluation.evaluate import EvaluatedModel, Evaluation, MetricOptions
from unpaired.evaluation.images import to_uint8
from unpaired.evaluation.load import load_module
from unpaired.evaluation.styles import reference_batches
from unpaired.metrics.ground_truth import per_image_errors
from unpaired.models.stargan_v2 import StarGANv2

DOMAINS = ("warm", "cool")  # two pairs: the Inception features of a third cost ~40 s
PAIRS = [f"{s}_to_{t}" for s in DOMAINS for t in DOMAINS if s != t]
SIZE, N_TEST, K = 32, 2, 2


def tiny_stargan(domains: Sequence[str] = DOMAINS) -> StarGANv2:
    torch.manual_seed(0)
    narrow = {"img_size": SIZE, "max_conv_dim": 8, "dim_in": 4}
    return StarGANv2(
        generator={
            "_target_": "unpaired.nn.stargan_v2.StarGANv2Generator",
            **narrow,
            "style_dim": 4,
            "w_hpf": 0,
        },
        mapping_network={
            "_target_": "unpaired.nn.stargan_v2.MappingNetwork",
            "latent_dim": 3,
            "style_dim": 4,
            "hidden_dim": 8,
        },
        style_encoder={"_target_": "unpaired.nn.stargan_v2.StyleEncoder", **narrow, "style_dim": 4},
        discriminator={"_target_": "unpaired.nn.stargan_v2.StarGANv2Discriminator", **narrow},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        domains=domains,
        init_type="kaiming",
    ).eval()


def styled_data(root: Path) -> StyledSyntheticDataModule:
    return StyledSyntheticDataModule(
        root=str(root), image_size=SIZE, n_train=1, n_test=N_TEST, num_workers=0, domains=DOMAINS
    )


def options(weights: tuple[Path, Path], **overrides: Any) -> MetricOptions:
    alexnet, linear = weights
    defaults = {"kid": False, "batch_size": 2, "outputs_per_image": K}
    return MetricOptions(
        **{**defaults, **overrides}, alexnet_weights=str(alexnet), lpips_weights=str(linear)
    )


def test_every_pair_latent_and_reference_guided_with_fid_lpips_and_their_means(
    tmp_path: Path,
    random_inception_weights: Path,
    random_lpips_weights: tuple[Path, Path],
    page_tables: Callable[[Path], dict[str, list[list[str]]]],
    assert_metrics_shown: Callable[[list[list[str]], Mapping[str, Any]], None],
) -> None:
    # batches of 1: each output of an image takes another reference of the 2 per domain
    chosen = options(
        random_lpips_weights, inception_weights=str(random_inception_weights), batch_size=1
    )
    output = tmp_path / "evaluation"
    evaluation = Evaluation(
        [EvaluatedModel("stargan", tiny_stargan())], styled_data(tmp_path / "data"), output, chosen
    )
    results = evaluation.run()

    for pair in PAIRS:
        styles = results[pair]["styles"]
        assert set(styles) == {"latent", "reference"}
        for guide, values in styles.items():
            assert values["n_translated"] == N_TEST * K
            assert len(list(Path(values["translations"]).glob("*.png"))) == N_TEST * K
            assert Path(values["translations"]).name == f"{guide}_{pair}"
            assert values["fid"] > 0 and values["lpips"] > 0  # random styles differ
    for guide in ("latent", "reference"):
        for metric in ("fid", "lpips"):
            mean = np.mean([results[pair]["styles"][guide][metric] for pair in PAIRS])
            assert results["styles_mean"][guide][metric] == pytest.approx(mean)
    logged = flat_metrics(results, evaluation.models[0].module.translations)
    suffix = evaluation.models[0].module.translation("warm_to_cool").suffix
    assert (
        logged[f"eval/lpips_reference_{suffix}"]
        == results["warm_to_cool"]["styles"]["reference"]["lpips"]
    )
    protocol = results["protocol"]["styles"]
    assert protocol["outputs_per_image"] == K
    assert protocol["lpips_weights"] == str(random_lpips_weights[1])
    tables = page_tables(output / "index.html")
    assert_metrics_shown(tables["metrics"], results)
    header, *rows = tables["metrics"]
    assert {"FID latent", "LPIPS latent", "FID reference", "LPIPS reference"} <= set(header)
    assert len(rows) == len(PAIRS) + 1  # one per pair, and their mean


def test_the_same_seed_draws_the_same_styles_and_another_seed_others(
    tmp_path: Path, random_lpips_weights: tuple[Path, Path]
) -> None:
    def lpips_of(seed: int, folder: str) -> dict[str, float]:
        chosen = options(random_lpips_weights, fid=False, style_seed=seed)
        data = styled_data(tmp_path / "data")
        results = Evaluation(
            [EvaluatedModel("stargan", tiny_stargan())], data, tmp_path / folder, chosen
        ).run()
        assert "fid" not in results["warm_to_cool"]["styles"]["latent"]
        return {g: v["lpips"] for g, v in results["warm_to_cool"]["styles"].items()}

    first = lpips_of(0, "a")
    assert lpips_of(0, "b") == first
    again = lpips_of(1, "c")
    assert again["latent"] != first["latent"] and again["reference"] != first["reference"]


class _Images(DomainImages):
    """Five 'images', each a constant equal to its index."""

    def __init__(self) -> None:
        pass

    def __len__(self) -> int:
        return 5

    def load(self, index: int) -> torch.Tensor:
        return torch.full((1, 1, 1), float(index))


def test_references_come_as_the_authors_shuffled_drop_last_loader_gives_them() -> None:
    draws = reference_batches(_Images(), 2, torch.Generator().manual_seed(0))
    first_pass = [next(draws).flatten().tolist() for _ in range(2)]
    second_pass = [next(draws).flatten().tolist() for _ in range(2)]
    for batches in (first_pass, second_pass):
        seen = [int(v) for batch in batches for v in batch]
        assert len(seen) == 4 and len(set(seen)) == 4  # 2 full batches of 5, the last dropped
    order = torch.randperm(5, generator=torch.Generator().manual_seed(0)).tolist()
    assert [int(v) for v in first_pass[0]] == order[:2]
    assert next(reference_batches(_Images(), 50, torch.Generator())).numel() == 5


def test_missing_lpips_weights_name_the_file_and_the_way_to_skip(
    tmp_path: Path, random_lpips_weights: tuple[Path, Path]
) -> None:
    chosen = options((random_lpips_weights[0], tmp_path / "none.ckpt"), fid=False)
    evaluation = Evaluation(
        [EvaluatedModel("stargan", tiny_stargan())],
        styled_data(tmp_path / "data"),
        tmp_path,
        chosen,
    )
    with pytest.raises(ConfigError, match=r"none.ckpt: no such file.*outputs_per_image=0"):
        evaluation.run()
    with pytest.raises(ConfigError, match="at least 2 outputs"):
        Evaluation(
            [EvaluatedModel("stargan", tiny_stargan())],
            styled_data(tmp_path / "data"),
            tmp_path,
            options(random_lpips_weights, fid=False, outputs_per_image=1),
        ).run()


def test_munit_draws_styles_too_and_is_measured_by_the_same_protocol(
    tmp_path: Path,
    tiny_data: Callable[[], Any],
    compose_train: Callable[..., Any],
    random_lpips_weights: tuple[Path, Path],
) -> None:
    tiny = [
        "model=munit",
        "model.generator.dim=8",
        "model.generator.n_res=1",
        "model.generator.mlp_dim=16",
        "model.generator.style_dim=4",
        "model.discriminator.dim=8",
        "model.discriminator.n_layer=2",
        "model.discriminator.num_scales=2",
    ]
    torch.manual_seed(0)
    munit = instantiate(compose_train(tiny).model, _recursive_=False, _convert_="all").eval()
    chosen = options(random_lpips_weights, fid=False)
    results = Evaluation([EvaluatedModel("munit", munit)], tiny_data(), tmp_path, chosen).run()

    for pair in ("AtoB", "BtoA"):
        for guide in ("latent", "reference"):
            assert results[pair]["styles"][guide]["n_translated"] == 2 * K  # 2 test images
    assert set(results["styles_mean"]) == {"latent", "reference"}


def test_on_the_three_style_set_every_pair_is_measured_against_its_truth(
    tmp_path: Path,
    save_checkpoint: Callable[..., Path],
    compose_train: Callable[..., Any],
    page_tables: Callable[[Path], dict[str, list[list[str]]]],
) -> None:
    domains = ("warm", "cool", "violet")
    checkpoint = save_checkpoint(tiny_stargan(domains), tmp_path / "stargan.ckpt")
    output = tmp_path / "evaluation"
    overrides = [
        f"ckpt={checkpoint}",
        "data=synthetic_styles",
        f"paths.data_dir={tmp_path / 'data'}",
        f"paths.output_dir={output}",
        f"data.image_size={SIZE}",
        "data.n_train=1",
        f"data.n_test={N_TEST}",
        "data.num_workers=0",
        "metrics.fid=false",
        "metrics.kid=false",
        "metrics.outputs_per_image=0",
        "device=cpu",
    ]
    results = evaluate(compose_train(overrides, config_name="evaluate"))

    module, _ = load_module(checkpoint)
    test_images = tmp_path / "data" / "synthetic_styles" / "test"

    def pngs(folder: Path) -> torch.Tensor:
        arrays = [torch.from_numpy(np.array(Image.open(path))) for path in sorted(folder.iterdir())]
        return torch.stack(arrays).permute(0, 3, 1, 2)

    def images_of(domain: str) -> torch.Tensor:
        return pngs(test_images / domain).float() / 127.5 - 1

    headers = [table[0] for table in page_tables(output / "index.html").values()]
    for translation in module.translations:
        source, target = translation.source, translation.target
        truth = results[str(translation)]["ground_truth"]
        assert set(truth) == {"L1", "PSNR", "SSIM"}
        with torch.no_grad():  # the truth of source image i in the target domain: its image i
            fake = module.translate(images_of(source), translation)
        expected = per_image_errors(fake, images_of(target))["L1"].mean()
        assert truth["L1"] == pytest.approx(float(expected), rel=1e-5)
        # each pair's own translations, saved apart from those of the other source
        assert torch.equal(pngs(Path(results[str(translation)]["translations"])), to_uint8(fake))
        saved_truths = pngs(output / "images" / f"true_{translation}")
        assert torch.equal(saved_truths, pngs(test_images / target))
        assert [f"input {source}", f"fake {target}", f"rec {source}", f"true {target}"] in [
            header[1:] for header in headers
        ]
    assert len(module.translations) == 6
