"""The Inspect page and the Dataset page's prediction viewer through AppTest, on a hand-made inspection."""
import json

import pytest

from conftest import open_page, write_job
from helpers_deploy import make_package, tiny_onnx
from helpers_inspect import make_inspection
from helpers_pages import figures, texts
from pruneseg.workspace import layout

INSPECT, DATASET = "app_pages/inspect.py", "app_pages/dataset.py"


@pytest.fixture
def ws(empty_workspace):
    make_inspection(empty_workspace)
    return empty_workspace


def test_inspect_page_on_an_empty_workspace(empty_workspace):
    at = open_page(INSPECT)
    assert not at.exception, at.exception
    assert "Train" in texts(at, "info") and "No inspection yet" in texts(at, "caption")


def test_inspect_page_draws_scores_confusions_images_and_losses(ws):
    at = open_page(INSPECT)
    assert not at.exception, at.exception
    assert at.query_params["inspect"] in ("demo", ["demo"])
    kinds = [f["data"][0]["type"] for f in figures(at)]
    assert kinds == ["bar", "heatmap", "heatmap", "heatmap"]  # scores, then one confusion matrix per model
    assert figures(at)[1]["data"][0]["x"] == ["other", "static", "sky", "person", "vehicle", "bike"]
    classes = at.dataframe[0].value
    assert set(classes["model"]) == {"A: model0", "B: model1", "C: model2"}
    # two galleries of the 3 worst images: image, truth, two predictions and error maps, their disagreement
    assert len(at.image) == 2 * 3 * 7
    sort = next(s for s in at.selectbox if s.label == "Sort by")
    sort.set_value("bike").run()
    assert not at.exception, at.exception
    next(s for s in at.selectbox if s.label == "Worst images of").set_value(1).run()
    assert not at.exception, at.exception
    assert "testcity_000001_000019" in texts(at, "caption")  # model B's worst bike image comes first
    # where does C lose bike against A: image 1 first
    losses = at.dataframe[-1].value
    assert losses.iloc[0]["#"] == 1 and losses.iloc[0]["drop"] == pytest.approx(1.0)


def test_choosing_the_same_models_reuses_the_result(ws, started):
    package = make_package(ws, "fpn-demo-model_best-fp32")
    at = open_page(INSPECT)
    form = next(m for m in at.multiselect if m.label == "Models")
    assert len(form.value) == 3  # the models of the result on show
    assert not form.proto.select_all  # no "Select all" where three is the most
    next(b for b in at.button if b.label == "Inspect").click().run()
    assert not at.exception, at.exception
    assert not started  # the result is current: reused, no job
    form = next(m for m in at.multiselect if m.label == "Models")
    form.set_value([str(package)])  # a form's values go with its submit
    next(b for b in at.button if b.label == "Inspect").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    kind, argv = started[0]
    assert kind == "inspect" and argv[argv.index("--model") + 1] == str(package)
    assert argv[argv.index("--out") + 1].startswith(str(layout.inspect_dir(ws.resolve())))


def test_a_finished_inspect_job_shows_its_result(ws):
    out = layout.inspect_path(ws.resolve(), "demo")
    write_job(ws, "inspect", ["inspect", "--out", str(out)], outputs={"out": str(out)})
    at = open_page(INSPECT)
    assert not at.exception, at.exception
    assert at.query_params["job"] in ("20250101-000000-inspect-done", ["20250101-000000-inspect-done"])
    assert len(at.get("plotly_chart")) == 4


def test_an_unreadable_result_is_named(ws):
    layout.inspect_path(ws, "broken").write_text("{")
    at = open_page(INSPECT)
    next(s for s in at.selectbox if s.label == "Show").set_value("inspect:broken").run()
    assert not at.exception, at.exception
    assert "broken.json" in at.error[0].value


def test_the_dataset_page_shows_a_prediction_beside_the_truth(ws):
    at = open_page(DATASET)
    at.radio[0].set_value("val").run()
    assert not at.exception, at.exception
    assert len(at.image) == 3  # the overlay, the prediction, its errors
    next(s for s in at.selectbox if s.label == "Model").set_value(1).run()
    at.number_input[0].set_value(2).run()
    assert not at.exception and len(at.image) == 3


def test_the_dataset_page_names_an_inspection_of_another_split(ws):
    at = open_page(DATASET)  # the train split: the inspection is of val, so none is chosen
    assert not at.exception, at.exception
    assert "No model prediction shown" in texts(at, "caption") and not at.error
    next(s for s in at.selectbox if s.label == "Predictions of").set_value("demo").run()
    assert not at.exception, at.exception
    assert "demo.json" in at.error[0].value and "val split" in at.error[0].value


def test_the_form_refuses_packages_that_do_not_fit(ws, started):
    from pruneseg.deploy.compile import compile_model

    small = make_package(ws, "small-fp32")
    larger = layout.packages_dir(ws) / "larger-fp32"
    compile_model(tiny_onnx(ws / "sources" / "larger.onnx", height=32, width=64), "ort-cpu", larger)
    four = make_package(ws, "four-fp32")
    manifest = json.loads((four / layout.MANIFEST).read_text())
    (four / layout.MANIFEST).write_text(json.dumps({**manifest, "class_names": ["a", "b", "c", "d"],
                                                    "class_colors": manifest["class_colors"][:4]}))
    at = open_page(INSPECT)
    for models, message in (([small, larger], "different input sizes (small-fp32 16x32, larger-fp32 32x64)"),
                            ([four], f"{four}: predicts 4 classes")):
        next(m for m in at.multiselect if m.label == "Models").set_value([str(m) for m in models])
        next(b for b in at.button if b.label == "Inspect").click().run()
        assert not at.exception, at.exception
        assert message in at.error[0].value and not started
