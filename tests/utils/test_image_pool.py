import pytest
import torch

from unpaired.utils.image_pool import ImagePool


def images(start: int, n: int) -> torch.Tensor:
    """n 1x1x1 images whose single value identifies them."""
    return torch.arange(start, start + n, dtype=torch.float32).view(n, 1, 1, 1)


def test_while_filling_every_image_is_stored_and_returned_as_is():
    pool = ImagePool(size=4)
    out = pool.query(images(0, 3))
    assert torch.equal(out, images(0, 3))
    assert len(pool.images) == 3


def test_when_full_half_the_images_come_from_history_and_are_replaced():
    torch.manual_seed(0)
    pool = ImagePool(size=50)
    pool.query(images(0, 50))
    returned_old = 0
    for step in range(400):
        new_value = 1000 + step
        out = pool.query(images(new_value, 1)).item()
        stored = {t.item() for t in pool.images}
        assert len(pool.images) == 50
        if out == new_value:
            continue  # returned the new image; it must not have been stored
        returned_old += 1
        assert out < new_value and out not in stored  # an old image, swapped out for the new one
        assert new_value in stored
    assert 150 < returned_old < 250  # p = 0.5


def test_returned_images_do_not_carry_gradients():
    pool = ImagePool(size=2)
    fake = torch.randn(3, 3, 4, 4, requires_grad=True)
    assert not pool.query(fake * 2).requires_grad


def test_size_zero_is_a_pass_through():
    pool = ImagePool(size=0)
    x = torch.randn(2, 3, 4, 4)
    assert pool.query(x) is x


def test_pool_state_round_trip():
    pool = ImagePool(size=3)
    pool.query(images(0, 2))
    restored = ImagePool(size=3)
    restored.load_pool_state(pool.pool_state())
    assert [t.item() for t in restored.images] == [0.0, 1.0]


def test_each_stored_image_is_a_copy_of_its_own_not_a_view_of_its_batch():
    pool = ImagePool(size=8)
    batch = torch.randn(4, 3, 8, 8)
    pool.query(batch)
    one_image = 3 * 8 * 8 * batch.element_size()
    assert [image.untyped_storage().nbytes() for image in pool.images] == [one_image] * 4
    batch.zero_()  # the generator's output buffer reused: the history must not change
    assert all(image.abs().sum() > 0 for image in pool.images)


def test_stored_images_follow_the_pools_dtype_and_device_like_buffers():
    pool = ImagePool(size=2)
    pool.query(images(0, 2))
    pool.to(torch.float64)
    assert [image.dtype for image in pool.images] == [torch.float64] * 2
    pool.to("meta")  # a device move a CPU can do
    assert {image.device.type for image in pool.images} == {"meta"}
    torch.manual_seed(0)
    returned = pool.query(torch.zeros(6, 1, 1, 1, dtype=torch.float64, device="meta"))
    assert returned.device.type == "meta"


def test_a_restored_pool_is_placed_where_the_pool_is_now():
    saved = ImagePool(size=2)
    saved.query(images(0, 2))
    restored = ImagePool(size=2).to(torch.float64)
    restored.load_pool_state(saved.pool_state())
    assert [image.dtype for image in restored.images] == [torch.float64] * 2


def test_negative_size_is_rejected():
    with pytest.raises(ValueError, match="pool size"):
        ImagePool(size=-1)
