import pytest
import torch
from torch.optim.lr_scheduler import LambdaLR

from unpaired.errors import ConfigError
from unpaired.models.schedules import LinearDecay, check_run_length, linear_decay


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


def test_no_factor_is_negative_after_the_schedule_ends():
    decay = LinearDecay(n_epochs=2, n_epochs_decay=3)
    assert decay.length == 5
    assert [decay(epoch) for epoch in range(5, 40)] == [0.0] * 35  # the authors' goes below 0


def _stepped(scheduler, epochs: int) -> None:
    for _ in range(epochs):
        scheduler.optimizer.step()
        scheduler.step()


def test_a_resumed_scheduler_follows_the_configured_schedule_from_the_restored_epoch():
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = linear_decay(optimizer, n_epochs=1, n_epochs_decay=1)
    _stepped(scheduler, 2)  # the old schedule's end: lr 1 - 2/2 = 0
    assert optimizer.param_groups[0]["lr"] == 0.0
    optimizer_state, scheduler_state = optimizer.state_dict(), scheduler.state_dict()

    # resumed with n_epochs_decay raised to 3: Lightning restores the optimiser, then the scheduler
    fresh_optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
    fresh = linear_decay(fresh_optimizer, n_epochs=1, n_epochs_decay=3)
    fresh_optimizer.load_state_dict(optimizer_state)
    fresh.load_state_dict(scheduler_state)
    assert fresh.last_epoch == 2
    assert fresh.decay.n_epochs_decay == 3
    assert fresh_optimizer.param_groups[0]["lr"] == pytest.approx(1 - 2 / 4)
    assert fresh.get_last_lr() == [pytest.approx(1 - 2 / 4)]
    _stepped(fresh, 1)
    assert fresh_optimizer.param_groups[0]["lr"] == pytest.approx(1 - 3 / 4)


def test_a_checkpoint_of_a_plain_lambda_scheduler_loads_with_the_configured_schedule():
    # checkpoints written before LinearDecayLR hold LambdaLR's lr_lambdas (the old horizon)
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
    old = LambdaLR(optimizer, LinearDecay(1, 1))
    _stepped(old, 1)
    state = old.state_dict()
    assert state["lr_lambdas"] == [{"n_epochs": 1, "n_epochs_decay": 1}]
    fresh = linear_decay(torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0), 1, 9)
    fresh.load_state_dict(state)
    assert (fresh.last_epoch, fresh.decay.n_epochs_decay) == (1, 9)
    assert fresh.get_last_lr() == [pytest.approx(1 - 1 / 10)]
    _stepped(fresh, 1)  # and it goes on with the configured schedule
    assert fresh.get_last_lr() == [pytest.approx(1 - 2 / 10)]


def test_a_saved_schedule_object_does_not_replace_the_configured_one():
    # LRScheduler.state_dict() holds every attribute; a state with the schedule in it (as one
    # written without LinearDecayLR.state_dict's filtering would be) still loads the config's
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
    old = linear_decay(optimizer, n_epochs=1, n_epochs_decay=1)
    _stepped(old, 1)
    state = {**old.state_dict(), "decay": LinearDecay(1, 1)}
    fresh = linear_decay(torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0), 1, 9)
    fresh.load_state_dict(state)
    assert fresh.decay.n_epochs_decay == 9
    assert fresh.get_last_lr() == [pytest.approx(1 - 1 / 10)]


def test_a_state_of_another_number_of_parameter_groups_is_refused():
    one = linear_decay(torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0), 1, 1)
    groups = [{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(2)]
    two = linear_decay(torch.optim.Adam(groups, lr=1.0), 1, 1)
    with pytest.raises(ValueError, match="zip"):
        two.load_state_dict(one.state_dict())


def test_the_scheduler_state_is_plain_values_for_weights_only_loading(tmp_path):
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = linear_decay(optimizer, n_epochs=1, n_epochs_decay=4)
    _stepped(scheduler, 3)
    torch.save(scheduler.state_dict(), tmp_path / "state.pt")
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    fresh = linear_decay(torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1.0), 1, 4)
    fresh.load_state_dict(state)
    assert fresh.get_last_lr() == scheduler.get_last_lr()


@pytest.mark.parametrize(
    ("max_epochs", "refused"), [(4, False), (5, False), (6, True), (-1, False)]
)
def test_a_run_longer_than_the_schedule_is_refused_naming_both_keys(max_epochs, refused):
    scheduler = linear_decay(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0), 2, 3)
    if not refused:
        check_run_length(scheduler, max_epochs)
        return
    with pytest.raises(ConfigError) as error:
        check_run_length(scheduler, max_epochs)
    keys = ("trainer.max_epochs=6", "model.scheduler.n_epochs_decay", "model.scheduler.n_epochs")
    assert all(key in str(error.value) for key in keys)


def test_training_longer_than_the_schedule_stops_before_the_first_step(
    sgd_cyclegan, fixed_batches, fit_one_epoch
):
    model = sgd_cyclegan(
        scheduler={
            "_target_": "unpaired.models.schedules.linear_decay",
            "_partial_": True,
            "n_epochs": 1,
            "n_epochs_decay": 0,
        }
    )
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ConfigError, match=r"trainer\.max_epochs=2"):
        fit_one_epoch(model, fixed_batches(2, 1), max_epochs=2)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before, strict=True))


def test_negative_lengths_are_rejected():
    with pytest.raises(ValueError, match="n_epochs"):
        LinearDecay(-1, 10)
