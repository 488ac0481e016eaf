"""Optuna studies behind our sweeps: the study's storage and heartbeats (:mod:`.study`), the search
space of a sweep (:mod:`.search_space`), the sweep's loop (:mod:`.sweeper`) and the side of a
training run that is one trial (:mod:`.trial`)."""
