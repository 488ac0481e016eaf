"""A short real CycleGAN training on the synthetic set must translate clearly better than the
untrained model, measured against the true translations, and follow the scene it translates."""

import json


def test_cyclegan_learns_the_synthetic_translation(tmp_path, run_cli, scene_errors):
    overrides = [
        f"paths.data_dir={tmp_path / 'data'}",
        f"paths.experiments_dir={tmp_path / 'experiments'}",
        "name=learns",
        "data.image_size=32",
        "data.load_size=32",
        "data.crop_size=32",
        "data.n_train=96",
        "data.n_test=16",
        "data.batch_size=4",
        "data.num_workers=0",
        "model.generator.ngf=16",
        "model.generator.n_blocks=3",
        "model.discriminator.ndf=16",
        "model.discriminator.n_layers=2",
        "model.scheduler.n_epochs=6",  # after 2, A→B still ignored the scene
        "model.scheduler.n_epochs_decay=0",
        "trainer.accelerator=cpu",
        "logger=null",
        "callbacks.image_grid=null",
    ]
    result = run_cli("train", overrides, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = (tmp_path / "experiments" / "learns").iterdir()
    report = json.loads((run / "ground_truth.json").read_text())
    start, end = report["start"], report["end"]
    for direction in ("AB", "BA"):
        assert end[f"L1_{direction}"] < 0.6 * start[f"L1_{direction}"], report
        assert end[f"PSNR_{direction}"] > start[f"PSNR_{direction}"] + 3.0, report
    for translation in ("AtoB", "BtoA"):
        own, others = scene_errors(
            run / "checkpoints" / "last.ckpt", tmp_path / "data" / "synthetic", translation
        )
        assert own < 0.9 * others, (translation, own, others)
