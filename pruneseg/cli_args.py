"""The glue between a config (``pruneseg.config``) and its command line, both ways.

``add_arguments`` turns each field into a flag whose help is the field's meaning, its default
(or "required") and its choices; ``from_args`` reads the config back from parsed arguments;
``to_argv`` writes the argv that reproduces a config, which is how the dashboard launches a job.
``parse_guard`` reads a ``--guard`` (``CLASS=LIMIT``). Stdlib only.
"""
import argparse
import typing
from dataclasses import fields


def _flag(name):
    return "--" + name.replace("_", "-")


def parse_guard(text):
    """``"person=0.02"`` -> ``("person", 0.02)``: a class and the largest IoU drop allowed for it.

    Raises:
        ValueError naming ``text`` when it is not ``CLASS=LIMIT`` or the limit lies outside 0..1.
    """
    name, sep, value = str(text).partition("=")
    try:
        limit = float(value)
    except ValueError:
        limit = None
    if not sep or not name.strip() or limit is None:
        raise ValueError(f"guard {text!r}: write it as CLASS=LIMIT, e.g. person=0.02")
    if not 0.0 <= limit <= 1.0:
        raise ValueError(f"guard {text!r}: the limit is an IoU drop and must lie in 0..1")
    return name.strip(), limit


def _guard_argument(text):
    try:
        return parse_guard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _shown(name, default):
    """A default as the help shows it: a switch as its flag, lists space-separated, empty as "empty"/"none"."""
    if isinstance(default, bool):
        return _flag(name) if default else "--no-" + _flag(name)[2:]
    if isinstance(default, (list, dict)):
        return " ".join(map(str, default)) or "none"
    return "empty" if default == "" else str(default)


def help_text(item, default, required=False):
    """The help of the flag of dataclass field ``item``: its meaning, then "(required)" or its default.

    ``%`` is doubled, as argparse formats help texts with ``%``."""
    meaning = item.metadata.get("help", "")
    return f"{meaning} ({'required' if required else 'default: ' + _shown(item.name, default)})".replace("%", "%%")


def add_arguments(parser, config_class, required=()):
    """One ``--flag`` per dataclass field (``--x/--no-x`` for booleans), defaults from the class.

    A field in the class's ``REPEATED`` (``{field: singular}``) takes one value per ``--singular``
    flag instead; a dict field's values are ``NAME=VALUE`` pairs (``--guard person=0.02``). A field
    with ``choices`` (``config.option``) takes one of them; where they are "on" and "off" (a boolean
    that learnt "auto"), ``--x`` alone still means "on" and ``--no-x`` "off". Fields in ``required``
    must be given.
    """
    defaults = config_class()
    repeated = getattr(config_class, "REPEATED", {})
    for item in fields(config_class):
        flag = _flag(item.name)
        default = getattr(defaults, item.name)
        choices = item.metadata.get("choices", ())
        text = help_text(item, default, item.name in required)
        if item.name in repeated:
            pairs = item.type is dict
            parser.add_argument(_flag(repeated[item.name]), dest=item.name, action="append",
                                type=_guard_argument if pairs else str, required=item.name in required,
                                metavar="NAME=VALUE" if pairs else repeated[item.name].upper(), help=text)
        elif choices:
            switch = {"on", "off"} <= set(choices)
            shown = "{" + ",".join(choice for choice in choices if choice) + "}"  # "" (the default) reads as empty
            parser.add_argument(flag, choices=choices, default=default, metavar=shown, help=text,
                                **({"nargs": "?", "const": "on"} if switch else {}))
            if switch:
                parser.add_argument("--no-" + flag[2:], dest=item.name, action="store_const", const="off",
                                    help=argparse.SUPPRESS)
        elif item.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
        elif item.type is list or typing.get_origin(item.type) is list:
            # the element type comes from the annotation (list[float]), else from the default
            element = (typing.get_args(item.type) or [type(default[0]) if default else str])[0]
            parser.add_argument(flag, type=element, nargs="*", default=default, help=text)
        else:
            parser.add_argument(flag, type=item.type, default=default, required=item.name in required, help=text)


def from_args(config_class, args):
    """The config of parsed ``args`` (every field read from the attribute of its name)."""
    values = {item.name: getattr(args, item.name) for item in fields(config_class)}
    for name in getattr(config_class, "REPEATED", {}):  # an appended flag never given is None
        kind = next(item.type for item in fields(config_class) if item.name == name)
        values[name] = kind(values[name] or [])
    return config_class(**values)


def to_argv(config):
    """CLI arguments that reproduce ``config`` for ``python -m pruneseg``."""
    positional = getattr(config, "POSITIONAL", ())
    repeated = getattr(config, "REPEATED", {})
    argv = list(config.COMMAND)
    for name in positional:
        value = getattr(config, name)
        argv += list(map(str, value)) if isinstance(value, list) else [str(value)]
    for item in fields(config):
        if item.name in positional:
            continue
        value = getattr(config, item.name)
        flag = _flag(item.name)
        if item.name in repeated:
            pairs = [f"{k}={v}" for k, v in value.items()] if isinstance(value, dict) else value
            for one in pairs:
                argv += [_flag(repeated[item.name]), str(one)]
        elif isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, list):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    return argv
