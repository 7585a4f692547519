"""The forms of the deploy and target pages: export, quantize, compile, and the target's throughput,
latency and video jobs (Streamlit). Each returns ``(config, problems)`` on submit, as ``forms`` do.
"""
import streamlit as st

from pruneseg.choices import CALIBRATION_METHODS, COMPILE_TARGETS
from pruneseg.config import CompileConfig, ExportConfig, QuantizeConfig
from pruneseg.target_configs import CompareConfig, LatencyConfig, PerfConfig, VideoConfig
from pruneseg.dashboard import checks
from pruneseg.workspace import layout


def export_form(checkpoint, data, out):
    """Export ``checkpoint`` to ONNX into ``out``."""
    with st.form("export"):
        st.markdown("**1 · Export to ONNX**")
        st.caption("fp32, static input size, opset 18, one file; compared with PyTorch on a few images.")
        parity = st.number_input("Parity images", 1, 256, ExportConfig().parity_images,
                                 help="Validation images run through both PyTorch and ONNX Runtime "
                                      "(random inputs when no dataset is chosen).")
        if not st.form_submit_button("Export", icon=":material/output:", width="stretch"):
            return None
    return ExportConfig(checkpoint=checkpoint, out=str(out), data=data, parity_images=int(parity)), []


def quantize_form(checkpoint, data, out):
    """Quantize ``checkpoint`` to int8 into ``out``."""
    defaults = QuantizeConfig()
    with st.form("quantize"):
        st.markdown("**2 · Quantize to int8**")
        st.caption("Exports first, then uint8 activations, int8 per-channel weights; scores fp32 and int8.")
        left, right = st.columns(2)
        calib = left.number_input("Calibration images", 1, 5000, defaults.calib,
                                  help="Spread evenly over the training split (the validation images stay unseen).")
        eval_images = right.number_input("Evaluation images", 0, 100000, defaults.eval_images,
                                         help="Validation images for the mIoU of both models; 0: the whole split.")
        method = st.selectbox("Calibration method", CALIBRATION_METHODS,
                              help="How activation ranges are chosen: minmax is fastest; entropy and "
                                   "percentile clip outliers.")
        keep = st.checkbox("Classifier in float", help="Keep the last layer in float: in int8 it often costs "
                                                       "the most accuracy, in float little time.")  # a row: fits 1280 px
        if not st.form_submit_button("Quantize", icon=":material/compress:", type="primary", width="stretch"):
            return None
    config = QuantizeConfig(checkpoint=checkpoint, data=data, out=str(out), calib=int(calib), calib_method=method,
                            eval_images=int(eval_images), keep_float=["classifier"] if keep else [])
    return config, [None if data else "Quantization calibrates and scores on a dataset: choose one above."]


def compile_form(models, package_dir):
    """Compile one of ``models`` (``{precision: ONNX file}``) into ``package_dir(precision, target)``."""
    with st.form("compile"):
        st.markdown("**3 · Compile a package**")
        st.caption("Optimised offline for the target; host-specific layouts are applied when it loads there.")
        precision = st.selectbox("Model", list(models), format_func=lambda p: f"{p} ({models[p].name})",
                                 placeholder="export or quantize first")
        target = st.selectbox("Target", list(COMPILE_TARGETS), help="; ".join(
            f"{name}: {text}" for name, text in COMPILE_TARGETS.items()) + ".")
        if not st.form_submit_button("Compile", icon=":material/deployed_code:", width="stretch", disabled=not models):
            return None
    config = CompileConfig(model=str(models[precision]), target=target, out=str(package_dir(precision, target)))
    return config, [checks.onnx_problem(models[precision])]


def perf_form(ws, packages, labels):
    """A throughput test of one of ``packages`` (folders, labelled by ``labels``)."""
    with st.form("perf"):
        cols = st.columns([3, 1, 1])
        package = cols[0].selectbox("Package", packages, format_func=labels.get)
        threads = cols[1].number_input("Threads", 1, 64, 1, help="Concurrent workers, each segmenting frames "
                                                                 "(the vendor tutorial's -t). With 1, latency is measured too.")
        seconds = cols[2].number_input("Seconds", 1, 600, 10, help="Test length (the vendor tutorial's -s).")
        if not st.form_submit_button("Run throughput test", type="primary", icon=":material/speed:"):
            return None
    config = PerfConfig(package=package, threads=int(threads), seconds=float(seconds),
                        out=str(layout.perf_result_path(ws, package, int(threads))))
    return config, [checks.package_problem(package)]


def latency_form(ws, packages, labels, pair):
    """Packages timed against a baseline in alternating rounds: the paired speed-up on the target."""
    with st.form("latency"):
        cols = st.columns([2, 3, 1])
        baseline = cols[0].selectbox("Baseline", packages, index=packages.index(pair[0]), format_func=labels.get,
                                     help="Usually the dense fp32 package: every speed-up is against it.")
        others = cols[1].multiselect("Against", packages, default=[pair[1]] if pair[1] else [], format_func=labels.get,
                                     help="Pruned, int8 and OpenVINO packages, timed in the same rounds as the baseline.")
        threads = cols[2].number_input("Threads", 1, 64, 1, key="latency-threads",
                                       help="ONNX Runtime threads per run, the same for every package.")
        if not st.form_submit_button("Compare latency", icon=":material/compare_arrows:"):
            return None
    chosen = [baseline, *(p for p in others if p != baseline)]
    config = LatencyConfig(packages=chosen, intra_op=int(threads), out=str(layout.latency_result_path(ws, baseline)))
    return config, [None if len(chosen) > 1 else "Choose at least one package to compare with the baseline.",
                    *(checks.package_problem(p) for p in chosen)]


def video_form(ws, sources, source_label, chosen, packages, labels, pair):
    """An overlay video of one package, or two side by side, over one of ``sources``."""
    with st.form("video"):
        source = st.selectbox("Video", sources, index=sources.index(chosen) if chosen in sources else 0,
                              format_func=source_label, placeholder="upload one below",
                              help="The built-in synthetic drive, or a video uploaded below.")
        cols = st.columns([2, 2, 1])
        left = cols[0].selectbox("Left package", packages, index=packages.index(pair[0]), format_func=labels.get)
        right = cols[1].selectbox("Right package", ["", *packages], index=["", *packages].index(pair[1]),
                                  format_func=lambda p: labels.get(p, "none: one package only"))
        max_frames = cols[2].number_input("Frames", 0, 100000, 0, help="Stop after this many frames; 0: all.")
        if not st.form_submit_button("Render video", type="primary", icon=":material/movie:"):
            return None
    if not source:
        return None, ["Choose a video: the built-in drive (`./run.sh dashboard` makes it, or `python -m pruneseg "
                      "synth`) or an upload."]
    out = str(layout.video_out_path(ws, left, right))
    config = (CompareConfig(left=left, right=right, input=source, out=out, max_frames=int(max_frames)) if right else
              VideoConfig(package=left, input=source, out=out, max_frames=int(max_frames)))
    return config, [checks.video_problem(source), checks.package_problem(left), right and checks.package_problem(right)]
