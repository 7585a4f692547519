"""The checks every registered model passes, shared by ``test_models`` and ``test_more_models`` (a helper
module, not a test module: pytest collects only the ``Test*`` subclasses that set ``name``)."""
import pytest
import torch

from pruneseg.model_catalog import MODEL_SPECS, check_input_size
from pruneseg.models import build_model


class ModelChecks:
    """Shared checks every registered model must pass; subclasses set ``name``."""

    name = None
    size = (64, 128)

    def test_forward_shape_and_classes(self):
        model = build_model(self.name, num_classes=6).eval()
        with torch.no_grad():
            out = model(torch.randn(2, 3, *self.size))
        assert out.shape == (2, 6, *self.size)

    def test_class_count_is_a_parameter(self):
        model = build_model(self.name, num_classes=4).eval()
        with torch.no_grad():
            assert model(torch.randn(1, 3, *self.size)).shape[1] == 4

    def test_backward_reaches_every_parameter(self):
        model = build_model(self.name)
        outputs = model(torch.randn(2, 3, *self.size))  # {"out", "aux"} in training where there is an aux head
        sum(o.mean() for o in (outputs.values() if isinstance(outputs, dict) else [outputs])).backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())

    def test_state_dict_round_trip(self):
        model, other = build_model(self.name).eval(), build_model(self.name).eval()
        other.load_state_dict(model.state_dict())
        x = torch.randn(1, 3, *self.size)
        with torch.no_grad():
            assert torch.equal(model(x), other(x))

    def test_bad_input_size_is_a_clear_error(self):
        multiple = MODEL_SPECS[self.name].stride
        with pytest.raises(ValueError, match=f"multiples of {multiple}"):
            check_input_size(self.name, 100, 200 + multiple // 2)
