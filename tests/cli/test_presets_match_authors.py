"""Every preset under conf/experiment/, composed as `unpaired-train experiment=...` composes it,
against the values in the authors' own files, one row per value.

Each row names the authors' repository and the file the value comes from, so a failing row says
where to look. Values our code cannot express (the authors' shorter-side resize, the Caffe
VGG-16 of their perceptual loss: torchvision's here) have no row; the preset comments and the
README say how the presets differ there. The two demo presets (cyclegan/synthetic,
pix2pix/synthetic) are checked only for what their comments claim to keep from the authors.

Repositories and the commits read:
  taesungp/contrastive-unpaired-translation  b3ac297708dfb6f7589d04662277e53c0d579c27
  mingyuliutw/UNIT                           28d5982934e9abf4dbdaaa72650bdd3a128b5519
  NVlabs/MUNIT                               a82e222bc359892bd0f522d7a0f1573f3ec4a485
  junyanz/pytorch-CycleGAN-and-pix2pix, file by file:
    options/base_options.py c05b30e7, options/train_options.py 48ced5e8 (--niter/--niter_decay,
    since renamed --n_epochs/--n_epochs_decay with the same defaults), models/cycle_gan_model.py,
    models/pix2pix_model.py and scripts/train_pix2pix.sh 032e8843, scripts/train_cyclegan.sh
    c5921c85, models/networks.py 78913853
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from unpaired.config import config_dir, register_resolvers

CYCLEGAN = "junyanz/pytorch-CycleGAN-and-pix2pix"
CUT = "taesungp/contrastive-unpaired-translation"
UNIT = "mingyuliutw/UNIT"
MUNIT = "NVlabs/MUNIT"


def rows(preset: str, source: str, values: dict[str, Any]) -> list[Any]:
    """One test case per (key, value) of ``values``, all taken from the file ``source``."""
    return [
        pytest.param(preset, key, value, source, id=f"{preset}:{key}")
        for key, value in values.items()
    ]


# --- CycleGAN ------------------------------------------------------------------------------------

CYCLEGAN_BASE = {  # options/base_options.py (CycleGAN's defaults: netG resnet_9blocks, netD basic)
    "model.generator.input_nc": 3,
    "model.generator.output_nc": 3,
    "model.generator.ngf": 64,
    "model.generator.n_blocks": 9,
    "model.generator.norm": "instance",
    "model.discriminator.input_nc": 3,
    "model.discriminator.ndf": 64,
    "model.discriminator.n_layers": 3,
    "model.discriminator.norm": "instance",
    "model.init_type": "normal",
    "model.init_gain": 0.02,
    "data.batch_size": 1,
    "data.load_size": 286,
    "data.crop_size": 256,
    "data.preprocess": "resize_and_crop",
    "data.flip": True,  # --no_flip off
    "data.direction": "AtoB",
}
CYCLEGAN_TRAIN = {  # options/train_options.py
    "model.optimizer.lr": 0.0002,
    "model.gan_mode": "lsgan",
    "model.pool_size": 50,
    "model.scheduler.n_epochs": 100,  # --n_epochs (formerly --niter)
    "model.scheduler.n_epochs_decay": 100,  # --n_epochs_decay (formerly --niter_decay)
    "trainer.max_epochs": 200,
}
CYCLEGAN_MODEL = {  # models/cycle_gan_model.py
    "model._target_": "unpaired.models.CycleGAN",
    "model.generator.use_dropout": False,  # set_defaults(no_dropout=True)
    "model.lambda_A": 10.0,
    "model.lambda_B": 10.0,
    "model.lambda_identity": 0.5,  # their scripts/train_cyclegan.sh keeps this default
    "model.optimizer.betas": [0.5, 0.999],  # (opt.beta1, 0.999)
}

# --- CUT / FastCUT -------------------------------------------------------------------------------

CUT_BASE = {  # options/base_options.py of the CUT repository
    "model.generator.ngf": 64,
    "model.generator.n_blocks": 9,
    "model.generator.norm": "instance",  # --normG
    "model.generator.use_dropout": False,  # --no_dropout defaults to True
    "model.generator.antialias": True,  # --no_antialias off
    "model.generator.antialias_up": True,  # --no_antialias_up off
    "model.discriminator.ndf": 64,
    "model.discriminator.n_layers": 3,  # netD basic
    "model.discriminator.norm": "instance",  # --normD
    "model.discriminator.antialias": True,
    "model.init_type": "xavier",
    "model.init_gain": 0.02,
    "data.batch_size": 1,
    "data.load_size": 286,
    "data.crop_size": 256,
    "data.preprocess": "resize_and_crop",
    "data.flip": True,
    "data.direction": "AtoB",
}
CUT_TRAIN = {  # options/train_options.py of the CUT repository
    "model.optimizer.lr": 0.0002,
    "model.optimizer.betas": [0.5, 0.999],  # --beta1, --beta2
    "model.gan_mode": "lsgan",
}
CUT_MODEL = {  # models/cut_model.py, modify_commandline_options, --CUT_mode CUT
    "model._target_": "unpaired.models.CUT",
    "model.lambda_GAN": 1.0,
    "model.lambda_NCE": 1.0,
    "model.nce_idt": True,
    "model.nce_layers": [0, 4, 8, 12, 16],
    "model.num_patches": 256,
    "model.netF_nc": 256,
    "model.nce_T": 0.07,
    "model.negatives_from_minibatch": False,  # --nce_includes_all_negatives_from_minibatch
    "model.flip_equivariance": False,
    "model.scheduler.n_epochs": 200,  # train_options.py default, kept by CUT mode
    "model.scheduler.n_epochs_decay": 200,
    "trainer.max_epochs": 400,
}
FASTCUT_MODEL = {  # models/cut_model.py, modify_commandline_options, --CUT_mode FastCUT
    **CUT_MODEL,
    "model.lambda_NCE": 10.0,
    "model.nce_idt": False,
    "model.flip_equivariance": True,
    "model.scheduler.n_epochs": 150,
    "model.scheduler.n_epochs_decay": 50,
    "trainer.max_epochs": 200,
}

# --- pix2pix -------------------------------------------------------------------------------------

PIX2PIX_SCRIPT = {  # scripts/train_pix2pix.sh (facades)
    "data.direction": "BtoA",
    "model.lambda_L1": 100.0,
    "model.generator.num_downs": 8,  # --netG unet_256
    "model.generator.norm": "batch",
    "model.discriminator.norm": "batch",
}
PIX2PIX_MODEL = {  # models/pix2pix_model.py
    "model._target_": "unpaired.models.Pix2Pix",
    "model.gan_mode": "vanilla",
    "model.discriminator.input_nc": 6,  # define_D(opt.input_nc + opt.output_nc, ...)
    "model.optimizer.betas": [0.5, 0.999],
}
PIX2PIX_BASE = {  # options/base_options.py
    "model.generator.ngf": 64,
    "model.generator.use_dropout": True,  # --no_dropout off
    "model.discriminator.ndf": 64,
    "model.discriminator.n_layers": 3,  # netD basic
    "model.init_type": "normal",
    "model.init_gain": 0.02,
    "data.batch_size": 1,
    "data.load_size": 286,
    "data.crop_size": 256,
    "data.preprocess": "resize_and_crop",
    "data.flip": True,
}
PIX2PIX_TRAIN = {  # options/train_options.py
    "model.optimizer.lr": 0.0002,
    "model.scheduler.n_epochs": 100,
    "model.scheduler.n_epochs_decay": 100,
    "trainer.max_epochs": 200,
}

# --- UNIT and MUNIT ------------------------------------------------------------------------------

AUTOENCODER_OPTIMISATION = {  # "optimization options" of every UNIT/MUNIT *_folder.yaml
    "model.max_iterations": 1_000_000,  # max_iter
    "data.batch_size": 1,  # batch_size
    "model.optimizer.weight_decay": 0.0001,  # weight_decay
    "model.optimizer.betas": [0.5, 0.999],  # beta1, beta2
    "model.init_type_G": "kaiming",  # init
    "model.optimizer.lr": 0.0001,  # lr
    "model.scheduler._target_": "torch.optim.lr_scheduler.StepLR",  # lr_policy: step
    "model.scheduler.step_size": 100_000,
    "model.scheduler.gamma": 0.5,
    "model.scheduler_interval": "step",  # step_size counts iterations
    "model.gan_w": 1.0,
    "model.recon_x_w": 10.0,
}
AUTOENCODER_MODEL = {  # "model options" gen: and dis: of every UNIT/MUNIT *_folder.yaml
    "model.generator.input_nc": 3,  # input_dim_a / input_dim_b
    "model.generator.dim": 64,
    "model.generator.activation": "relu",  # activ
    "model.generator.n_downsample": 2,
    "model.generator.n_res": 4,
    "model.generator.pad_type": "reflect",
    "model.discriminator.input_nc": 3,
    "model.discriminator.dim": 64,
    "model.discriminator.norm": "none",
    "model.discriminator.activation": "lrelu",
    "model.discriminator.n_layer": 4,
    "model.gan_mode": "lsgan",  # dis: gan_type
    "model.discriminator.num_scales": 3,
    "model.discriminator.pad_type": "reflect",
}
AUTOENCODER_DATA_256 = {  # "data options": new_size 256, crop_image_height/width 256
    "data.load_size": 256,  # shorter side there, square here: the same on square images
    "data.crop_size": 256,
}
AUTOENCODER_TRAINER = {  # trainer.py: dis_a/dis_b.apply(weights_init('gaussian')), N(0, 0.02)
    "model.init_type_D": "normal",
    "model.init_gain": 0.02,
}
AUTOENCODER_LOADER = {  # utils.py get_data_loader_folder: RandomHorizontalFlip when training
    "data.flip": True,
}

UNIT_LOSSES = {  # configs/unit_summer2winter_yosemite256_folder.yaml
    "model._target_": "unpaired.models.UNIT",
    "model.recon_kl_w": 0.01,
    "model.recon_x_cyc_w": 10.0,
    "model.recon_kl_cyc_w": 0.01,
    "model.vgg_w": 0.0,
}
UNIT_SHARING = {  # trainer.py: gen_a and gen_b are two separate VAEGen, no layer shared
    "model.n_shared_blocks": 0,
}

MUNIT_SUMMER2WINTER = {  # configs/summer2winter_yosemite256_folder.yaml
    "model._target_": "unpaired.models.MUNIT",
    "model.recon_s_w": 1.0,
    "model.recon_c_w": 1.0,
    "model.recon_x_cyc_w": 10.0,  # the style-augmented cycle is on in this config
    "model.vgg_w": 0.0,
    "model.generator.mlp_dim": 256,
    "model.generator.style_dim": 8,
}
MUNIT_EDGES2HANDBAGS = {  # configs/edges2handbags_folder.yaml (train.py's default --config)
    **MUNIT_SUMMER2WINTER,
    "model.recon_x_cyc_w": 0.0,
}

# --- the demos: only what their comments claim ---------------------------------------------------

CYCLEGAN_DEMO = {  # "the authors' CycleGAN losses, weights, pools, optimiser, init and batch"
    "model.gan_mode": "lsgan",  # options/train_options.py
    "model.pool_size": 50,
    "model.optimizer.lr": 0.0002,
    "model.lambda_A": 10.0,  # models/cycle_gan_model.py
    "model.lambda_B": 10.0,
    "model.lambda_identity": 0.5,
    "model.optimizer.betas": [0.5, 0.999],
    "model.generator.norm": "instance",  # options/base_options.py
    "model.discriminator.norm": "instance",
    "model.discriminator.n_layers": 3,
    "model.init_type": "normal",
    "model.init_gain": 0.02,
    "data.batch_size": 1,
    "data.flip": True,
}
PIX2PIX_DEMO = {  # "the paper's losses, weights, optimiser and update order"
    "model.gan_mode": "vanilla",  # models/pix2pix_model.py
    "model.lambda_L1": 100.0,
    "model.discriminator.input_nc": 6,
    "model.optimizer.betas": [0.5, 0.999],
    "model.optimizer.lr": 0.0002,  # options/train_options.py
    "model.generator.norm": "batch",  # models/pix2pix_model.py set_defaults(norm='batch')
    "model.discriminator.norm": "batch",
    "model.generator.use_dropout": True,  # options/base_options.py --no_dropout off
    "model.init_type": "normal",
    "model.init_gain": 0.02,
    "data.batch_size": 1,
}

CASES = [
    *rows("cyclegan/horse2zebra", f"{CYCLEGAN} options/base_options.py", CYCLEGAN_BASE),
    *rows("cyclegan/horse2zebra", f"{CYCLEGAN} options/train_options.py", CYCLEGAN_TRAIN),
    *rows("cyclegan/horse2zebra", f"{CYCLEGAN} models/cycle_gan_model.py", CYCLEGAN_MODEL),
    *rows(
        "cyclegan/horse2zebra",
        f"{CYCLEGAN} models/networks.py",
        {"model.generator.padding_type": "reflect"},  # ResnetGenerator(padding_type='reflect')
    ),
    *rows("cut/horse2zebra", f"{CUT} options/base_options.py", CUT_BASE),
    *rows("cut/horse2zebra", f"{CUT} options/train_options.py", CUT_TRAIN),
    *rows("cut/horse2zebra", f"{CUT} models/cut_model.py", CUT_MODEL),
    *rows("fastcut/horse2zebra", f"{CUT} options/base_options.py", CUT_BASE),
    *rows("fastcut/horse2zebra", f"{CUT} options/train_options.py", CUT_TRAIN),
    *rows("fastcut/horse2zebra", f"{CUT} models/cut_model.py", FASTCUT_MODEL),
    *rows("pix2pix/facades", f"{CYCLEGAN} scripts/train_pix2pix.sh", PIX2PIX_SCRIPT),
    *rows("pix2pix/facades", f"{CYCLEGAN} models/pix2pix_model.py", PIX2PIX_MODEL),
    *rows("pix2pix/facades", f"{CYCLEGAN} options/base_options.py", PIX2PIX_BASE),
    *rows("pix2pix/facades", f"{CYCLEGAN} options/train_options.py", PIX2PIX_TRAIN),
    *[
        case
        for values in (
            AUTOENCODER_OPTIMISATION,
            AUTOENCODER_MODEL,
            AUTOENCODER_DATA_256,
            UNIT_LOSSES,
        )
        for case in rows(
            "unit/summer2winter_yosemite256",
            f"{UNIT} configs/unit_summer2winter_yosemite256_folder.yaml",
            values,
        )
    ],
    *rows(
        "unit/summer2winter_yosemite256",
        f"{UNIT} trainer.py",
        {**AUTOENCODER_TRAINER, **UNIT_SHARING},
    ),
    *rows("unit/summer2winter_yosemite256", f"{UNIT} utils.py", AUTOENCODER_LOADER),
    *[
        case
        for values in (
            AUTOENCODER_OPTIMISATION,
            AUTOENCODER_MODEL,
            AUTOENCODER_DATA_256,
            MUNIT_SUMMER2WINTER,
        )
        for case in rows(
            "munit/summer2winter_yosemite256",
            f"{MUNIT} configs/summer2winter_yosemite256_folder.yaml",
            values,
        )
    ],
    *rows("munit/summer2winter_yosemite256", f"{MUNIT} trainer.py", AUTOENCODER_TRAINER),
    *rows("munit/summer2winter_yosemite256", f"{MUNIT} utils.py", AUTOENCODER_LOADER),
    # The authors have no horse2zebra config: the preset takes the trainer's default config.
    *[
        case
        for values in (
            AUTOENCODER_OPTIMISATION,
            AUTOENCODER_MODEL,
            AUTOENCODER_DATA_256,
            MUNIT_EDGES2HANDBAGS,
        )
        for case in rows("munit/horse2zebra", f"{MUNIT} configs/edges2handbags_folder.yaml", values)
    ],
    *rows("munit/horse2zebra", f"{MUNIT} trainer.py", AUTOENCODER_TRAINER),
    *rows("munit/horse2zebra", f"{MUNIT} utils.py", AUTOENCODER_LOADER),
    *rows(
        "cyclegan/synthetic",
        f"{CYCLEGAN} options/*.py, models/cycle_gan_model.py",
        CYCLEGAN_DEMO,
    ),
    *rows(
        "pix2pix/synthetic",
        f"{CYCLEGAN} options/*.py, models/pix2pix_model.py",
        PIX2PIX_DEMO,
    ),
]

# --- the unconditional models ---------------------------------------------------------------------

EXAMPLES = "pytorch/examples"
DCGAN_EXAMPLES = {  # dcgan/main.py: its arguments' defaults, weights_init, the loss and networks
    "model.generator.nz": 100,
    "model.gan_mode": "vanilla",  # BCELoss on a sigmoid; ours BCE on the logit
    "model.optimizer.lr": 0.0002,
    "model.optimizer.betas": [0.5, 0.999],
    "model.init_type": "normal",
    "model.init_gain": 0.02,
    "data.crop_size": 64,  # --imageSize
}
VAE_PAPER = {  # Kingma & Welling 2014: the evidence lower bound, reconstruction + KL, weight 1
    "model.kl_weight": 1.0,
}
CASES += [
    *rows("dcgan/synthetic", f"{EXAMPLES} dcgan/main.py", DCGAN_EXAMPLES),
    *rows("vae/synthetic", "Kingma & Welling (ICLR 2014), Eq. 10", VAE_PAPER),
]

# --- Recycle-GAN ----------------------------------------------------------------------------------

RECYCLE = "aayushbansal/Recycle-GAN"  # 69b1ed6090cb95065ec78b8d1a0fab2ea8e46d35
RECYCLE_SCRIPT = {  # scripts/run_Recycle_gan.sh, options/*.py (the rest at their defaults)
    "model.generator.ngf": 64,
    "model.generator.n_blocks": 6,  # --which_model_netG resnet_6blocks
    "model.generator.use_dropout": False,  # --no_dropout
    "model.generator.norm": "instance",
    "model.predictor._target_": "unpaired.nn.prediction.StackedFramesUnet",  # unet_256
    "model.predictor.ngf": 64,  # define_G(2 * input_nc, input_nc, opt.ngf, 'unet_256', ...)
    "model.predictor.num_downs": 8,
    "model.predictor.use_dropout": False,
    "model.discriminator.ndf": 64,
    "model.discriminator.n_layers": 3,
    "model.gan_mode": "lsgan",
    "model.lambda_A": 10.0,
    "model.lambda_B": 10.0,
    "model.lambda_identity": 0.0,  # --identity 0
    "model.image_cycle": False,
    "model.adversarial_prediction": False,
    "model.pool_size": 0,  # --pool_size 0
    "model.optimizer.lr": 0.0002,
    "model.optimizer.betas": [0.5, 0.999],
    "model.scheduler.n_epochs": 100,  # --niter
    "model.scheduler.n_epochs_decay": 100,  # --niter_decay
    "model.init_type": "normal",
    "data.frames": 3,  # unaligned_triplet
    "data.load_size": 286,
    "data.crop_size": 256,
    "data.batch_size": 1,
}
RECYCLE_RECYCLE_SCRIPT = {  # scripts/run_ReCycle_GAN.sh: --model reCycle_gan, no --identity
    **RECYCLE_SCRIPT,
    "model.image_cycle": True,
    "model.lambda_identity": 0.5,  # train_options.py: --identity 0.5
}
RECYCLE_DEMO = {  # what the demo preset's comment keeps from run_Recycle_gan.sh
    key: RECYCLE_SCRIPT[key]
    for key in (
        "model.gan_mode",
        "model.lambda_A",
        "model.lambda_B",
        "model.lambda_identity",
        "model.pool_size",
        "model.optimizer.lr",
        "model.optimizer.betas",
        "model.init_type",
        "data.frames",
        "data.batch_size",
    )
}
CASES += [
    *rows("recycle_gan/synthetic_video", f"{RECYCLE} scripts/run_Recycle_gan.sh", RECYCLE_DEMO),
    *rows("recycle_gan/video_folder", f"{RECYCLE} scripts/run_Recycle_gan.sh", RECYCLE_SCRIPT),
    *rows(
        "recycle_gan/recycle_video_folder",
        f"{RECYCLE} scripts/run_ReCycle_GAN.sh",
        RECYCLE_RECYCLE_SCRIPT,
    ),
]

# --- StarGAN v2 (clovaai/stargan-v2 875b70a150609e8a678ed8482562e7074cdce7e5) -----------------

STARGAN_V2 = "clovaai/stargan-v2"
STARGAN_V2_MAIN = {  # main.py: the argument defaults
    "model.mapping_network.latent_dim": 16,  # --latent_dim
    "model.mapping_network.hidden_dim": 512,  # --hidden_dim
    "model.generator.style_dim": 64,  # --style_dim
    "model.generator.img_size": 256,  # --img_size
    "model.lambda_reg": 1.0,
    "model.lambda_sty": 1.0,
    "model.lambda_cyc": 1.0,
    "model.ds_iter": 100000,
    "data.randcrop_prob": 0.5,
    "model.max_iterations": 100000,  # --total_iters
    "data.batch_size": 8,
    "data.val_batch_size": 32,
    "model.optimizer.lr": 0.0001,  # --lr (G, E, D)
    "model.f_lr": 0.000001,  # --f_lr
    "model.optimizer.betas": [0.0, 0.99],  # --beta1, --beta2
    "model.optimizer.weight_decay": 0.0001,
}
STARGAN_V2_AFHQ = {  # README.md: the AFHQ training command
    "data.domains": ["cat", "dog", "wild"],  # --num_domains 3, the folders of data/afhq/train
    "model.generator.w_hpf": 0,
    "model.lambda_ds": 2.0,
}
STARGAN_V2_CELEBA_HQ = {  # README.md: the CelebA-HQ training command
    "data.domains": ["female", "male"],  # --num_domains 2, the folders of data/celeba_hq/train
    "model.generator.w_hpf": 1,
    "model.lambda_ds": 1.0,
}
STARGAN_V2_SOLVER = {  # core/solver.py and core/model.py
    "model._target_": "unpaired.models.stargan_v2.StarGANv2",
    "model.gan_mode": "vanilla",  # adv_loss: binary_cross_entropy_with_logits
    "model.init_type": "kaiming",  # utils.he_init: kaiming_normal_ fan_in, zero biases
    "model.ema.enabled": True,  # moving_average(..., beta=0.999) of G, F and E
    "model.ema.decay": 0.999,
    "model.ema.start_step": 0,
}
STARGAN_V2_DEMO = {  # what the synthetic preset's comment keeps from core/solver.py
    "model.lambda_reg": 1.0,
    "model.lambda_sty": 1.0,
    "model.lambda_ds": 1.0,
    "model.lambda_cyc": 1.0,
    "model.gan_mode": "vanilla",
    "model.optimizer.betas": [0.0, 0.99],
    "model.optimizer.weight_decay": 0.0001,
    "data.batch_size": 8,
}
CASES += [
    *rows("stargan_v2/afhq", f"{STARGAN_V2} main.py", STARGAN_V2_MAIN),
    *rows("stargan_v2/afhq", f"{STARGAN_V2} README.md", STARGAN_V2_AFHQ),
    *rows("stargan_v2/afhq", f"{STARGAN_V2} core/solver.py", STARGAN_V2_SOLVER),
    *rows("stargan_v2/celeba_hq", f"{STARGAN_V2} main.py", STARGAN_V2_MAIN),
    *rows("stargan_v2/celeba_hq", f"{STARGAN_V2} README.md", STARGAN_V2_CELEBA_HQ),
    *rows("stargan_v2/celeba_hq", f"{STARGAN_V2} core/solver.py", STARGAN_V2_SOLVER),
    *rows("stargan_v2/synthetic", f"{STARGAN_V2} main.py, core/solver.py", STARGAN_V2_DEMO),
]

# --- style transfer ------------------------------------------------------------------------------
# pytorch/examples 77f55b912142e11fcfdf5b530231fb9c52f181e8, naoto0804/pytorch-AdaIN
# 47950d0e6656a95a80a4b105c4c0f58d38ef785c

ADAIN = "naoto0804/pytorch-AdaIN"
JOHNSON_EXAMPLES = {  # fast_neural_style/neural_style/neural_style.py: train's argument defaults
    "model.content_weight": 1e5,
    "model.style_weight": 1e10,
    "model.optimizer.lr": 0.001,
    "model.content_layer": "relu2_2",  # the content loss reads features_y.relu2_2
    "model.style_layers": ["relu1_2", "relu2_2", "relu3_3", "relu4_3"],  # vgg.py's outputs
    "model.pixel_scale": 255.0,  # transforms.Lambda(lambda x: x.mul(255))
}
JOHNSON_TRAINING = {  # train's defaults and its transform: Resize(256), CenterCrop(256)
    "data.batch_size": 4,
    "data.preprocess": "scale_shorter_and_center_crop",
    "data.load_size": 256,
    "data.crop_size": 256,
    "data.flip": False,
    "trainer.max_epochs": 2,
}
ADAIN_TRAIN = {  # train.py: argument defaults and train_transform
    "model.optimizer.lr": 0.0001,
    "model.scheduler.decay": 5e-5,  # --lr_decay, lr / (1 + lr_decay * iteration)
    "model.max_iterations": 160000,
    "model.style_weight": 10.0,
    "model.content_weight": 1.0,
}
ADAIN_DATA = {
    "data.batch_size": 8,
    "data.load_size": 512,
    "data.crop_size": 256,
    "data.flip": False,
}
CASES += [
    *rows(
        "johnson/coco",
        f"{EXAMPLES} fast_neural_style/neural_style/neural_style.py",
        {**JOHNSON_EXAMPLES, **JOHNSON_TRAINING},
    ),
    *rows(
        "johnson/synthetic",
        f"{EXAMPLES} fast_neural_style/neural_style/neural_style.py",
        JOHNSON_EXAMPLES,
    ),
    *rows("adain/coco_wikiart", f"{ADAIN} train.py", {**ADAIN_TRAIN, **ADAIN_DATA}),
    *rows(
        "adain/synthetic",
        f"{ADAIN} train.py",
        {k: v for k, v in ADAIN_TRAIN.items() if k != "model.max_iterations"},
    ),
]

_MISSING = object()


@functools.cache
def composed(preset: str) -> DictConfig:
    """conf/train.yaml with ``experiment=<preset>``, composed once per preset."""
    register_resolvers()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose("train", overrides=[f"experiment={preset}"])


@pytest.mark.parametrize(("preset", "key", "authors_value", "source"), CASES)
def test_preset_value_is_the_authors(preset: str, key: str, authors_value: Any, source: str):
    value = OmegaConf.select(composed(preset), key, default=_MISSING)
    assert value is not _MISSING, f"experiment={preset} has no {key} (authors: {source})"
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value, resolve=True)
    message = f"experiment={preset}: {key}={value!r}, the authors' {source} has {authors_value!r}"
    if isinstance(authors_value, bool):  # True == 1 would pass a plain comparison
        assert value is authors_value, message
    else:
        assert value == authors_value, message


def test_every_preset_is_checked():
    presets = sorted(
        path.relative_to(config_dir() / "experiment").with_suffix("").as_posix()
        for path in (config_dir() / "experiment").rglob("*.yaml")
    )
    assert presets == sorted({case.values[0] for case in CASES})
