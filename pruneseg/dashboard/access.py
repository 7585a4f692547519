"""Who may do what on a shared dashboard: viewer mode and the sign-in rules (Streamlit-free).

**Viewer mode** (``PRUNESEG_VIEWER=1``, set by ``./run.sh dashboard --viewer``): every page draws the
workspace, nothing writes. The pieces that write (``job_widgets.launch_job``, ``cancel_job``, ``resume_job``
and ``uploads.save_video``) call ``refuse_in_viewer`` first, and the pages leave their forms out through
``widgets.operator_mode``.

**Sign-in** is on when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's ``st.login``,
OpenID Connect; the gate is ``sign_in.require_sign_in``). ``[pruneseg] allowed_domains =
["example.com"]`` in the same file lets in only addresses of those domains; without it, anyone the
provider signs in.
"""
import importlib.metadata
import os
import re

from pruneseg.errors import PruneSegError

VIEWER_ENV = "PRUNESEG_VIEWER"
OFF_VALUES = ("", "0", "false", "no", "off")
ACCESS_SECTION = "pruneseg"  # the secrets.toml section beside [auth] that holds allowed_domains
AUTHLIB_MINIMUM = (1, 3, 2)  # what st.login needs


class ViewerModeError(PruneSegError):
    """Something tried to write (start, cancel, upload) on a dashboard served in viewer mode."""


def viewer_mode(environ=None):
    """Whether the dashboard is served read-only: ``PRUNESEG_VIEWER`` set to anything but empty, 0, false,
    no or off (an unknown value counts as on: a typo must not open the dashboard)."""
    value = (os.environ if environ is None else environ).get(VIEWER_ENV, "")
    return value.strip().lower() not in OFF_VALUES


def refuse_in_viewer(action):
    """Raise ``ViewerModeError`` naming ``action`` (``"start a job"``) when in viewer mode."""
    if viewer_mode():
        raise ViewerModeError(f"Cannot {action}: this dashboard is served in viewer mode ({VIEWER_ENV}=1), "
                              "where nothing is started, cancelled or uploaded.")


def sign_in_configured(secrets):
    """Whether ``secrets`` (the parsed ``secrets.toml``, a mapping) asks visitors to sign in."""
    return bool(secrets.get("auth"))


def allowed_domains(secrets):
    """The email domains let in (lower case), from ``[pruneseg] allowed_domains``; empty: any.

    Raises:
        ValueError naming the setting when it is not a list of domain names.
    """
    domains = (secrets.get(ACCESS_SECTION) or {}).get("allowed_domains", [])
    if isinstance(domains, str) or not all(isinstance(d, str) and d.strip().lstrip("@") for d in domains):
        raise ValueError(f"[{ACCESS_SECTION}] allowed_domains in .streamlit/secrets.toml must be a list of domains, "
                         f'such as ["example.com"]; it is {domains!r}')
    return tuple(d.strip().lstrip("@").lower() for d in domains)


def visitor_problem(user, domains):
    """Why the signed-in ``user`` (the claims of ``st.user``) may not see the dashboard, or None.

    Args:
        domains: ``allowed_domains``; empty lets every signed-in visitor in.
    """
    if not domains:
        return None
    email = str(user.get("email") or "")
    if not email:
        return "Your sign-in gave no email address, and this dashboard lets in only " + _domains_text(domains) + "."
    if user.get("email_verified") is False:
        return f"{email} is not verified by the sign-in provider: verify it there first."
    if email.rpartition("@")[2].lower() not in domains:
        return f"{email} may not see this dashboard: it lets in only {_domains_text(domains)}."
    return None


def _domains_text(domains):
    return "addresses of " + ", ".join(f"@{d}" for d in domains)


def authlib_problem():
    """Why Streamlit's sign-in cannot run here (Authlib missing or too old), or None."""
    try:
        version = importlib.metadata.version("Authlib")
    except importlib.metadata.PackageNotFoundError:
        version = None
    wanted = ".".join(map(str, AUTHLIB_MINIMUM))
    if version is None or _version_tuple(version) < AUTHLIB_MINIMUM:
        found = f"Authlib {version} is installed" if version else "Authlib is not installed"
        return (f"Sign-in is configured ([auth] in .streamlit/secrets.toml), but {found}: Streamlit's sign-in needs "
                f"Authlib>={wanted} (`pip install 'Authlib>={wanted}'`). Nothing is shown until it can sign "
                "visitors in.")
    return None


def _version_tuple(version):
    """``"1.4.0rc1"`` -> ``(1, 4, 0)``: the leading number of each of the first three parts."""
    return tuple(int(match.group()) if (match := re.match(r"\d+", part)) else 0 for part in version.split(".")[:3])
