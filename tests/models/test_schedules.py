import pytest
import torch

from unpaired.models.schedules import LinearDecay, linear_decay


def test_factor_is_one_for_n_epochs_then_decays_linearly_as_the_authors_formula():
    decay = LinearDecay(n_epochs=100, n_epochs_decay=100)
    assert [decay(e) for e in (0, 50, 98)] == [1.0, 1.0, 1.0]
    for epoch in range(99, 200):
        assert decay(epoch) == pytest.approx(1 - (epoch + 1 - 100) / 101)
    assert decay(199) == pytest.approx(1 / 101)


def test_scheduler_stepped_once_per_epoch_gives_the_authors_learning_rates():
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=2e-4)
    scheduler = linear_decay(optimizer, n_epochs=2, n_epochs_decay=3)
    lrs = []
    for _ in range(5):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs == pytest.approx([2e-4, 2e-4, 2e-4 * 3 / 4, 2e-4 * 2 / 4, 2e-4 * 1 / 4])


def test_scheduler_state_survives_a_checkpoint_round_trip():
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = linear_decay(optimizer, n_epochs=1, n_epochs_decay=4)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    state = scheduler.state_dict()
    fresh_optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
    fresh = linear_decay(fresh_optimizer, n_epochs=7, n_epochs_decay=7)
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].n_epochs == 1
    assert fresh.get_last_lr() == scheduler.get_last_lr()


def test_negative_lengths_are_rejected():
    with pytest.raises(ValueError, match="n_epochs"):
        LinearDecay(-1, 10)
