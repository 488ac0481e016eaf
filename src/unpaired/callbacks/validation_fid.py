"""FID/KID during training, on a fixed subset of the test split, every few epochs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import lightning as L
import torch
from torch import Tensor

from unpaired.data.domains import DomainImages
from unpaired.evaluation.images import chunks, same_shape_groups, to_uint8
from unpaired.metrics.fid import frechet_distance, kernel_inception_distance
from unpaired.metrics.inception import InceptionFeatures

log = logging.getLogger(__name__)


class ValidationFID(L.Callback):
    """Logs ``val/fid_AB``, ``val/kid_AB`` (``_<translation>`` for each translation the model
    makes: ``..._BA`` too for two-way models) at the end of every ``every_n_epochs``-th
    validation (0: never).

    The subset is the first ``n_images`` test images of each domain (sorted by name), after the
    data's deterministic test transform, so every measurement compares the same images. The
    translations are quantised to 8 bits exactly as the PNG files of ``unpaired-evaluate`` are
    (PNG is lossless), so on the same images the numbers equal the evaluation's. Drive
    ``best.ckpt`` with ``callbacks.checkpoint.monitor=val/fid_AB callbacks.checkpoint.mode=min``.
    The Inception network is loaded at the first measurement and the real images' features are
    computed once. Measured on rank 0 only.
    """

    def __init__(
        self,
        every_n_epochs: int = 0,
        n_images: int = 100,
        kid: bool = True,
        kid_subset_size: int = 1000,
        inception_weights: str | None = None,
        batch_size: int = 50,
    ) -> None:
        super().__init__()
        if every_n_epochs < 0 or n_images < 2 or batch_size < 1:
            raise ValueError(
                "ValidationFID needs every_n_epochs >= 0, n_images >= 2 and batch_size >= 1, got "
                f"{every_n_epochs}, {n_images}, {batch_size}"
            )
        self.every_n_epochs = every_n_epochs
        self.n_images = n_images
        self.kid = kid
        self.kid_subset_size = kid_subset_size
        self.inception_weights = inception_weights
        self.batch_size = batch_size
        self._extractor: InceptionFeatures | None = None
        self._real_features: dict[str, Tensor] = {}

    def _due(self, trainer: L.Trainer) -> bool:
        return (
            self.every_n_epochs > 0
            and not trainer.sanity_checking
            and trainer.is_global_zero
            and (trainer.current_epoch + 1) % self.every_n_epochs == 0
        )

    @torch.no_grad()
    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._due(trainer):
            return
        dataset = trainer.datamodule.val_dataset
        domains = {name: dataset.images_of(name) for name in pl_module.domains}
        if self._extractor is None:
            self._extractor = InceptionFeatures(self.inception_weights)
        self._extractor.to(pl_module.device)
        was_training = pl_module.training
        pl_module.eval()
        with pl_module.averaged_weights():  # the weights the model is evaluated with
            self._measure(trainer, pl_module, domains)
        pl_module.train(was_training)

    def _measure(
        self, trainer: L.Trainer, pl_module: L.LightningModule, domains: dict[str, DomainImages]
    ) -> None:
        for translation in pl_module.translations:
            source, target = translation.source, translation.target
            if target not in self._real_features:
                self._real_features[target] = self._features(
                    lambda images: images, domains[target], pl_module.device
                )
            fake = self._features(
                lambda images, t=translation: pl_module.translate(images, t),
                domains[source],
                pl_module.device,
            )
            real = self._real_features[target]
            values = {f"val/fid_{translation.suffix}": frechet_distance(real, fake)}
            if self.kid:
                mean, _, _ = kernel_inception_distance(real, fake, self.kid_subset_size)
                values[f"val/kid_{translation.suffix}"] = mean
            pl_module.log_dict(values, rank_zero_only=True)
            log.info("epoch %d: %s", trainer.current_epoch, values)

    def _features(
        self, translate: Callable[[Tensor], Tensor], domain: DomainImages, device: torch.device
    ) -> Tensor:
        """Inception features of the first ``n_images`` of ``domain`` (by file name), after
        ``translate``."""
        assert self._extractor is not None
        first = sorted(range(len(domain)), key=lambda index: domain.files[index])[: self.n_images]
        images = [domain.load(index) for index in first]
        features = []
        for chunk in chunks(images, self.batch_size):
            for group in same_shape_groups([image.shape for image in chunk]):
                batch = torch.stack([chunk[i] for i in group]).to(device)
                uint8 = to_uint8(translate(batch)).expand(-1, 3, -1, -1)  # grey to RGB
                features.append(self._extractor(uint8.to(device)).double().cpu())
        return torch.cat(features)
