"""The forms that fill a job's config, one per job kind (Streamlit): training, analysis, pruning,
inspection and the frontier here, export to target in ``deploy_forms``.

Each draws its form and, on submit, returns ``(config, problems)``: the ``pruneseg.config``
dataclass the form asks for and the messages of the checks it failed (the job's own,
``pruneseg.preflight``, and the form's, ``pruneseg.dashboard.checks``), None where it passed; the page hands both to ``job_widgets.launch_job``. Without a submit
it returns None.
"""
from dataclasses import replace
from pathlib import Path

import streamlit as st

from pruneseg import preflight
from pruneseg.choices import (CPU_BF16_CHOICES, DISTILL_KINDS, LATENCY_TABLE_RATIOS, SPEEDUP_PRECISION_MEANING,
                              TRAIN_PRESETS)
from pruneseg.config import AnalyzeConfig, FrontierConfig, InspectConfig, PruneConfig, TrainConfig
from pruneseg.dashboard import checks, widgets
from pruneseg.dashboard.labels import dataset_label
from pruneseg.dashboard.views.training_estimate import estimate_text, training_minutes
from pruneseg.model_catalog import (MODEL_FILE_FORM, MODEL_SPECS, batch_sizes_text, is_model_file, model_short_name,
                                    strides_text)
from pruneseg.records.analysis import read_analysis, settings_of
from pruneseg.target.machine import machine_profile, native_bf16, profile_text
from pruneseg.target_configs import CompareConfig, LatencyConfig, PerfConfig, VideoConfig
from pruneseg.workspace import layout, naming

RATIO_CHOICES = [round(0.05 * i, 2) for i in range(1, 20)]  # the analysis form's pruning ratios: 0.05 .. 0.95


def processes_input():
    """The number of data-parallel processes (``--processes``, run under torchrun), in an expander
    that is open where more than one GPU is visible."""
    gpus = checks.visible_gpus()
    seen = f"{gpus} GPUs visible" if gpus else "no GPU visible: CPU processes share the cores"
    with st.expander(f"Processes: {seen}", expanded=gpus > 1):
        return int(st.number_input(
            "Processes", 1, 256, 1, help="Data-parallel processes under torchrun: one per GPU (NCCL), or CPU "
                                         "processes (gloo). The results do not depend on it; the speed does. "
                                         "For several machines, see the README."))


RECIPES = {"quick": "Quick: this CPU, every class", "seed": "Vendor tutorial's: Cityscapes on a GPU"}
LOSS_LABELS = {"ce": "cross-entropy", "weighted_ce": "class-weighted cross-entropy", "ohem": "OHEM cross-entropy",
               "weighted_ohem": "class-weighted OHEM"}


def train_form(ws, datasets):
    """A new training run, its fields starting from a recipe (``TRAIN_PRESETS``, or the vendor tutorial's)."""
    recipe = st.segmented_control(
        "Recipe", list(RECIPES), default="quick", required=True, key="recipe", format_func=RECIPES.get,
        help="Quick: the `--preset quick` settings, chosen by measurement so that FPN learns all six classes of the "
             "built-in data within a 10-minute budget on 2 CPU cores (BENCHMARKS.md). Vendor tutorial's: its 256x512 recipe with "
             "plain cross-entropy, for real Cityscapes and a GPU (the vendor tutorial trains 200 epochs).")
    defaults = replace(TrainConfig(), **TRAIN_PRESETS.get(recipe, {"epochs": 20}))
    if datasets:
        images = (datasets[0]["train images"] or 0) + (datasets[0]["val images"] or 0)
        minutes = training_minutes(defaults.model, defaults.height, defaults.width, defaults.epochs, images)
        st.caption(f"With these defaults on `{datasets[0]['name']}` ({images} images): "
                   f"{estimate_text(minutes, defaults.epochs, defaults.budget_minutes)} "
                   f"for FPN on a 2-core CPU like this project's (measured, BENCHMARKS.md); the time grows with "
                   "epochs x pixels, and a GPU is many times faster. The vendor tutorial is the licensed workflow PruneSeg "
                   "reproduces in the open (FPN-ResNet18 and UNet on 6-class Cityscapes).")
    with st.form("new-run"):
        model_col, data_col, path_col = st.columns([1, 1, 2])
        model = model_col.selectbox("Model", list(MODEL_SPECS), format_func=lambda name: MODEL_SPECS[name].label,
                                    help="The vendor tutorial's two, or one of torchvision's segmentation models (untrained, "
                                         "nothing is downloaded).")
        own = model_col.text_input("…or your own model", placeholder=MODEL_FILE_FORM,
                                   help="A Python file and a function in it: function(num_classes) returns a "
                                        "torch.nn.Module giving logits (N, classes, H, W) at input size. Overrides "
                                        "the model above when filled in.").strip()
        labels = {d["path"]: dataset_label(d) for d in datasets}
        dataset = data_col.selectbox("Dataset", list(labels), format_func=labels.get, placeholder="none in workspace")
        custom = path_col.text_input("…or a Cityscapes root folder", placeholder="/data/cityscapes",
                                     help="Overrides the dataset on the left when filled in.").strip()
        cols = st.columns(6)
        height = cols[0].number_input("Height", 16, 2048, defaults.height, 16,
                                      help=f"Input height, a multiple of the model's stride: {strides_text()}.")
        width = cols[1].number_input("Width", 16, 4096, defaults.width, 16,
                                     help="Input width, a multiple of the model's stride (as the height).")
        epochs = cols[2].number_input("Epochs", 1, 1000, defaults.epochs,
                                      help="The most epochs (with a budget, the run may take fewer). The vendor "
                                           "tutorial trains 200.")
        batch = cols[3].number_input("Batch size", 0, 256, 0,
                                     help=f"0: the model's default batch size ({batch_sizes_text()}; FPN's and "
                                          "UNet's are the vendor tutorial's).")
        lr = cols[4].number_input("Learning rate", 1e-6, 1.0, defaults.lr, 1e-5, format="%.0e",
                                  help="Adam; FPN's decoder learns 10x faster (the vendor tutorial's recipe).")
        name = cols[5].text_input("Run name", placeholder="automatic",
                                  help="Folder name under runs/; empty: model and date.").strip()
        loss_col, budget_col, bf16_col = st.columns(3)
        loss = loss_col.selectbox("Loss", list(LOSS_LABELS), index=list(LOSS_LABELS).index(defaults.loss),
                              format_func=LOSS_LABELS.get,
                              help="Class weights (1 / ln(1.02 + pixel share), from the training split) let rare "
                                   "classes such as person and bike be learned; OHEM trains on the hardest pixels.")
        budget = budget_col.number_input(
            "Budget (minutes)", 0.0, 100000.0, float(defaults.budget_minutes), 1.0, format="%g",
            help="Train for at most this long: the run times its first steps and a validation pass, takes the "
                 "epochs that fit (Epochs is the most it takes) and spreads its learning-rate schedule over them. "
                 "0: no budget, all the epochs.")
        profile = machine_profile()
        bf16 = bf16_col.selectbox(
            "CPU bfloat16", CPU_BF16_CHOICES, index=CPU_BF16_CHOICES.index(defaults.cpu_bf16),
            format_func={"auto": f"auto (this CPU: {'on, native' if native_bf16(profile) else 'off, emulated'})",
                         "on": "on", "off": "off"}.get,
            help=f"bfloat16 arithmetic on the CPU: about 1.5x faster per step where the CPU computes it natively "
                 f"(AVX512-BF16, AMX), about 3x slower where it is emulated. This CPU: {profile_text(profile)}. "
                 "On a GPU, training uses float16 mixed precision instead.")
        processes = processes_input()
        if not st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:"):
            return None
    root = str(checks.typed_path(custom)) if custom else dataset
    if own:  # the run records the file by its absolute path, wherever the job starts
        path, _, function = own.rpartition(":")
        model = f"{checks.typed_path(path)}:{function}" if is_model_file(own) else own
    name = name or naming.default_run_name(model_short_name(model))
    config = replace(defaults, model=model, data=str(Path(root).resolve()) if root else "",
                     out=str(layout.run_dir(ws, name)), height=int(height), width=int(width), epochs=int(epochs),
                     batch_size=int(batch), lr=float(lr), loss=loss, processes=processes, budget_minutes=float(budget),
                     cpu_bf16=bf16)
    data_problem = (custom and checks.folder_problem(custom, "dataset folder")) or checks.dataset_problem(root, "train")
    return config, [checks.size_problem(model, height, width), checks.model_file_problem(model),
                    checks.new_folder_problem(name, layout.runs_dir(ws)), data_problem,
                    checks.processes_problem(processes)]


def analysis_form(ws, checkpoints, datasets):
    """A new (or resumed) sensitivity analysis."""
    defaults = AnalyzeConfig()
    with st.form("new-analysis"):
        ckpt_col, data_col = st.columns(2)
        checkpoint = ckpt_col.selectbox("Checkpoint", checkpoints, placeholder="none in workspace",
                                        help="A trained (or already pruned) model; `model_best.pt` is the best "
                                             "validation epoch of a run.")
        labels = {d["path"]: dataset_label(d) for d in datasets}
        dataset = data_col.selectbox("Dataset", list(labels), format_func=labels.get, placeholder="none in workspace",
                                     help="Its validation images score every cell; a few training batches "
                                          "re-estimate BatchNorm statistics after each cut.")
        cols = st.columns([1, 1, 1, 3])
        images = cols[0].number_input("Images per cell", 1, 5000, defaults.images,
                                      help="Validation images scored for each group and ratio. More is steadier "
                                           "and slower: the time grows with groups x ratios x images.")
        bn_batches = cols[1].number_input("BN batches", 0, 100, defaults.bn_batches,
                                          help="Training batches that re-estimate BatchNorm statistics after "
                                               "pruning (0: off). Without it a pruned model looks worse than it is.")
        name = cols[2].text_input("Analysis name", placeholder="automatic",
                                  help="File name under analyses/; empty: the checkpoint's run and file name.").strip()
        ratios = cols[3].multiselect("Pruning ratios", RATIO_CHOICES, default=defaults.ratios,
                                     format_func=lambda r: f"{r:.0%}",
                                     help="Shares of a group's channels removed, one cell each. The vendor tutorial "
                                          "sweeps 10% .. 90%.")
        left, middle, right = st.columns([2, 2, 3], vertical_alignment="bottom")  # the labels fit at 1280 px
        runtime = left.checkbox("Time on ONNX Runtime", value=defaults.runtime,
                                help="Time every plan as it ships (ONNX Runtime fp32 and int8, the target runner's "
                                     "session): the curves' speed-ups, and the predictors a speed-up asked starts "
                                     "from. Adds a few seconds per curve point.")
        table = middle.checkbox("Latency table", value=bool(defaults.latency_ratios),
                                help="Also time what each group saves pruned alone, at "
                                     f"{', '.join(f'{r:.0%}' for r in LATENCY_TABLE_RATIOS)}: the latency plan is "
                                     "built from it. It predicted speed-ups worse than the MACs and costs half of the "
                                     "analysis or more (BENCHMARKS.md), so it is off by default.")
        threads = right.number_input("Runtime threads", 1, 64, defaults.runtime_threads,
                                     help="ONNX Runtime threads per run, as the target runner's --intra-op: time "
                                          "with the thread count the target will use.")
        processes = processes_input()
        if not st.form_submit_button("Start the analysis", type="primary", icon=":material/play_arrow:"):
            return None
    name = name or (naming.checkpoint_name(checkpoint) if checkpoint else "")
    out = layout.analysis_path(ws, name)
    config = AnalyzeConfig(checkpoint=str(ws / checkpoint) if checkpoint else "", data=str(dataset), out=str(out),
                           images=int(images), ratios=sorted(ratios), bn_batches=int(bn_batches), runtime=runtime,
                           runtime_threads=int(threads), processes=processes,
                           latency_ratios=list(LATENCY_TABLE_RATIOS) if runtime and table else [])
    problems = [None if checkpoint else "Choose a checkpoint: train a model on the Train page first.",
                checks.dataset_problem(dataset, "val"), name and naming.name_problem(name, "analysis name"),
                checks.processes_problem(processes)]
    existing, problem = widgets.load_record(out, read_analysis) if out.exists() else (None, None)
    return config, [*problems, problem or preflight.analyze_problem(config, existing)]


def prune_form(ws, analysis, analysis_path, plans, plan_default, guards=None):
    """A new (or resumed) iterative pruning run of ``analysis`` with one of ``plans``, holding ``guards``
    (chosen above the form)."""
    guards = dict(guards or {})
    defaults = PruneConfig()
    stem = Path(analysis_path).stem
    with st.form("new-prune"):
        cols = st.columns([2, 1.2, 1, 1, 1, 1, 1])
        name = cols[0].text_input("Run name", placeholder=f"{stem}-{plan_default}",
                                  help="Folder under pruned/ for the snapshots; empty: the analysis and plan.").strip()
        plan = cols[1].selectbox("Plan", plans, index=plans.index(plan_default) if plan_default in plans else 0)
        iterations = cols[2].number_input("Iterations", 1, 20, defaults.iterations)
        step = cols[3].number_input("Step", 0.01, 0.9, defaults.step, 0.01, format="%.2f",
                                    help="The MACs-reduction target rises by this share of the dense model per "
                                         "iteration (not compounding): 5 x 0.1 ends at 50% fewer MACs. With the "
                                         "latency plan the speed-up target rises by it: 5 x 0.2 ends at 2x.")
        tolerance = cols[4].number_input("Tolerance", 0.0, 1.0, defaults.tolerance, 0.005, format="%.3f",
                                         help="Fine-tuning stops once the mIoU is this close to the dense model's "
                                              "(absolute; the vendor tutorial uses 0.02).")
        max_epochs = cols[5].number_input("Max epochs", 1, 1000, 20,
                                          help="Fine-tuning epochs per iteration at most (the vendor tutorial allows 200).")
        lr = cols[6].number_input("Learning rate", 1e-6, 1.0, defaults.lr, 1e-5, format="%.0e")
        speedup, distill, final_epochs = speedup_inputs(defaults)
        st.caption("Guards: " + (", ".join(f"{n} ≤ {v:g}" for n, v in guards.items()) or "none") +
                   " (set above the slider).")
        processes = processes_input()
        if not st.form_submit_button("Start pruning", type="primary", icon=":material/content_cut:"):
            return None
    name = name or f"{stem}-{plan}"
    config = PruneConfig(checkpoint=analysis["checkpoint"], data=settings_of(analysis).data,
                         analysis=str(analysis_path), out=str(layout.pruning_run_dir(ws, name)),
                         iterations=int(iterations), step=float(step), tolerance=float(tolerance),
                         max_epochs=int(max_epochs), plan=plan, lr=float(lr), guards=guards,
                         processes=processes, speedup=speedup[0], speedup_precision=speedup[1], distill=distill[0],
                         distill_kind=distill[1], final_epochs=final_epochs)
    return config, [naming.name_problem(name), preflight.prune_problem(config, analysis),
                    checks.processes_problem(processes)]


def speedup_inputs(defaults):
    """The pruning run's speed-up asked, distillation and final fine-tune (inside the prune form).

    Returns:
        ``((speed-up, precision), (distill, kind), final epochs)``.
    """
    cols = st.columns([1, 1, 1.2, 1.2, 1])
    speedup = cols[0].number_input(
        "Speed-up asked", 0.0, 20.0, defaults.speedup, 0.05, format="%.2f",
        help="0: off (the MACs steps above). More than 1: each iteration searches the plan for a model MEASURED "
             "that much faster than the dense one on ONNX Runtime (rising evenly, the last iteration the asked "
             "one); the step is then unused. Each search times a few whole models (seconds each).")
    precision = cols[1].selectbox("Of", ["fp32", "int8"],
                                  help=f"{SPEEDUP_PRECISION_MEANING}.")
    distill = cols[2].checkbox("Distill", value=defaults.distill,
                               help="Distill from the dense model: fine-tune with the dense checkpoint as a frozen "
                                    "teacher, loss = the recipe's loss + λ x distillation (BENCHMARKS.md: points recovered, seconds per step).")
    kind = cols[3].selectbox("Distillation", DISTILL_KINDS, index=DISTILL_KINDS.index(defaults.distill_kind),
                             format_func={"channel": "channel-wise (Shu et al. 2021)",
                                          "pixel": "pixel-wise logit KL"}.get,
                             help=f"λ {defaults.distill_weight:g}, τ {defaults.distill_tau:g} (`--distill-weight`, "
                                  "`--distill-tau` on the command line).")
    final_epochs = cols[4].number_input("Final epochs", 0, 1000, defaults.final_epochs,
                                        help="After the last iteration, fine-tune this many more epochs with the "
                                             "learning rate falling to 0 (cosine): its own row. 0: none.")
    return (float(speedup), precision), (distill, kind), int(final_epochs)


def inspect_form(ws, options, datasets, chosen=()):
    """An inspection of up to three of ``options`` (``{checkpoint or package path: label}``) on a dataset split.

    ``chosen``: the models picked first (those of the result on show).
    """
    with st.form("inspect"):
        models = st.multiselect("Models", list(options), default=[m for m in chosen if m in options],
                                format_func=options.get, max_selections=3, placeholder="up to three",
                                select_all=False,  # "select all" would pick more than three
                                help="Checkpoints run with PyTorch, packages through the target runner (fp32 or int8). "
                                     "The first is the reference the others are compared with: usually the dense one.")
        data_col, split_col = st.columns([3, 1])
        labels = {d["path"]: dataset_label(d) for d in datasets}
        dataset = data_col.selectbox("Dataset", list(labels), format_func=labels.get, placeholder="none in workspace")
        split = split_col.radio("Split", ["val", "train"], horizontal=True)
        if not st.form_submit_button("Inspect", type="primary", icon=":material/troubleshoot:"):
            return None
    config = InspectConfig(models=list(models), data=str(dataset or ""), split=split,
                           out=str(layout.inspect_path(ws, naming.inspect_name(models, dataset or "", split))))
    return config, [preflight.inspect_problem(config)]


def frontier_form(ws, packages, labels, datasets):
    """The frontier of some or all of ``packages`` (folders, labelled by ``labels``), timed together."""
    with st.form("frontier"):
        chosen = st.multiselect("Packages", packages, format_func=labels.get, placeholder="every package",
                                help="Left empty: every package of the workspace, broken ones listed with their problem.")
        cols = st.columns([1, 1, 2])
        threads = cols[0].number_input("Threads", 1, 64, 1, key="frontier-threads",
                                       help="Runtime threads per run, the same for every package (the target "
                                            "runner's --intra-op). On 2 cores, 1 is the stable figure.")
        rounds = cols[1].number_input("Rounds", 1, 100, 7, help="Alternating rounds of the paired timing.")
        names = {d["path"]: dataset_label(d) for d in datasets}
        data = cols[2].selectbox("Dataset", list(names), format_func=names.get, placeholder="none in workspace",
                                 help="Where per-class IoU is measured (an inspection of its validation split) for a "
                                      "package whose records lack it.")
        if not st.form_submit_button("Measure the frontier", type="primary", icon=":material/scatter_plot:"):
            return None
    config = FrontierConfig(workspace=str(ws), packages=list(chosen), threads=int(threads), rounds=int(rounds),
                            data=str(data or ""),
                            out=str(layout.frontier_path(ws, naming.frontier_name(chosen, int(threads)))))
    return config, [None if packages else "No package in this workspace yet: compile one first."]
