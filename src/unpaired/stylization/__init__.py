"""Neural style transfer beside translation: the image helpers the style methods share and
Gatys et al.'s optimisation (``unpaired-stylize``). The feed-forward methods are models
(:mod:`unpaired.models.johnson`, :mod:`unpaired.models.adain`); their losses live in
:mod:`unpaired.losses.style` and their loss network in :mod:`unpaired.nn.vgg`."""
