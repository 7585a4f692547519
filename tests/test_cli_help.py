"""The command line explains itself: every flag of every command has a help with its meaning, the
required ones say so, fixed sets of values are listed, and --target / --step say what they mean
for each plan. The configs' flags still read back as the config the dashboard wrote."""
import argparse
import dataclasses
import re

import pytest

from pruneseg import choices, config
from pruneseg.cli import build_parser
from pruneseg.cli_args import add_arguments, from_args, to_argv
from pruneseg.choices import PLAN_KINDS, TARGET_KINDS
from pruneseg.prune.plans import PLANS
from pruneseg.target.__main__ import build_parser as build_runner_parser


def commands(parser, prefix=()):
    """``(command words, parser)`` of every command under ``parser``, subcommands included."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += [((*prefix, name), sub)] + commands(sub, (*prefix, name))
    return found


# every command of `python -m pruneseg` and of the edge box's runner, `python -m pruneseg.target` ("runner perf")
COMMANDS = {" ".join(words): sub for words, sub in commands(build_parser()) + commands(build_runner_parser(), ("runner",))
            if not any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)}
# the configs whose flags add_arguments makes, with the flags that command requires
CONFIG_COMMANDS = {name: c for name, c in vars(config).items() if dataclasses.is_dataclass(c)
                   and isinstance(c, type) and " ".join(c.COMMAND) in COMMANDS and not hasattr(c, "POSITIONAL")}


def help_of(command, flag):
    """The help ``command``'s ``--help`` prints for ``flag``, on one line."""
    parser = COMMANDS[command]
    action = next(a for a in parser._actions if flag in a.option_strings)
    return " ".join(parser._get_formatter()._expand_help(action).split())


def test_the_commands_are_found():
    assert {"train", "analyze", "verify", "prune", "synth", "data stats", "eval", "info", "report",
            "target perf", "target latency", "target video", "target compare", "frontier", "demo", "runner perf",
            "runner compare"} <= set(COMMANDS)
    assert {"TrainConfig", "VerifyConfig", "PruneConfig", "QuantizeConfig", "FrontierConfig"} <= set(CONFIG_COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_flag_has_a_help_with_its_meaning(command):
    parser = COMMANDS[command]
    text = parser.format_help()  # fails on a stray % in a help
    shown = [a for a in parser._actions if a.help != argparse.SUPPRESS and a.dest != "help"]
    for action in shown:
        name = "/".join(action.option_strings) or action.dest
        words = help_of(command, action.option_strings[0]) if action.option_strings else action.help
        assert words and not words.lower().startswith(("default", "(default", "(required")), (command, name, words)
        if action.required and action.option_strings:  # a positional is required by nature
            assert "(required)" in words and "default:" not in words, (command, name, words)
        if action.choices and not isinstance(action.choices, dict):
            listed = "{" + ",".join(c for c in action.choices if c) + "}"
            assert listed in text, (command, name)
    hidden = [a for a in parser._actions if a.help == argparse.SUPPRESS]  # only the --no-x twin of --x
    assert all(a.option_strings[0].startswith("--no-") and
               any("--" + a.option_strings[0][5:] in b.option_strings for b in shown) for a in hidden), command


@pytest.mark.parametrize("name", sorted(CONFIG_COMMANDS))
def test_every_config_field_has_a_meaning_and_valid_choices(name):
    config_class = CONFIG_COMMANDS[name]
    defaults = config_class()
    for item in dataclasses.fields(config_class):
        assert len(item.metadata.get("help", "")) > 10, f"{name}.{item.name} says nothing: give it option(...)"
        allowed = item.metadata["choices"]
        assert not allowed or getattr(defaults, item.name) in allowed, (name, item.name)


def test_choices_come_from_the_code_that_uses_them():
    fields = {item.name: item for item in dataclasses.fields(config.PruneConfig)}
    assert fields["plan"].metadata["choices"] == PLAN_KINDS == tuple(PLANS)
    assert set(fields["loss"].metadata["choices"]) == {"", *choices.LOSSES}
    from pruneseg.losses import LOSSES
    from pruneseg.prune.importance import IMPORTANCES

    assert LOSSES is choices.LOSSES
    assert set(choices.IMPORTANCES) == set(IMPORTANCES)
    assert "--plan {sensitivity,uniform,latency}" in COMMANDS["verify"].format_help()
    assert "--loss {ce,weighted_ce,ohem,weighted_ohem}" in COMMANDS["train"].format_help()
    assert "--importance {l2,l1,bn-scale,lamp,fpgm}" in COMMANDS["analyze"].format_help()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["verify", "--analysis", "a", "--data", "d", "--plan", "fastest"])


def test_required_flags_say_so_and_defaults_are_shown():
    assert help_of("verify", "--analysis").endswith("(required)")
    assert help_of("verify", "--plan").endswith("(default: sensitivity)")
    assert help_of("verify", "--out").endswith("(default: empty)")
    assert help_of("verify", "--guard").endswith("(default: none)")
    assert help_of("train", "--amp").endswith("(default: --amp)")
    assert help_of("prune", "--distill").endswith("(default: --no-distill)")
    assert help_of("analyze", "--ratios").endswith("(default: 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9)")
    assert help_of("train", "--budget-minutes").startswith("train at most this many minutes")
    assert help_of("synth", "--train") == "training images (default: 300)"


@pytest.mark.parametrize("command, flag", [("verify", "--target"), ("prune", "--step")])
def test_target_and_step_say_what_they_mean_for_each_plan(command, flag):
    words = help_of(command, flag)
    # "...: sensitivity, uniform: the share ...; latency: the speed-up ...": the part naming each plan
    parts = {plan: next(part for part in words.split("; ") if re.search(rf"\b{plan}(, [a-z]+)*: ", part))
             for plan in PLAN_KINDS}
    for plan, part in parts.items():
        meaning = "MACs" if TARGET_KINDS[plan] == "macs" else "times faster" if command == "prune" else "speed-up"
        assert meaning in part, (plan, part)
    assert "MACs" not in parts["latency"] and "0-1" in parts["sensitivity"] and "0-1" in parts["uniform"]
    assert "--speedup" in words


@pytest.mark.parametrize("name", sorted(CONFIG_COMMANDS))
def test_flags_read_back_as_the_config_written(name):
    config_class = CONFIG_COMMANDS[name]
    parser = argparse.ArgumentParser()
    add_arguments(parser, config_class)
    written = config_class()
    assert from_args(config_class, parser.parse_args(to_argv(written)[len(config_class.COMMAND):])) == written
