"""The sign-in gate (Streamlit): ``app.py`` calls ``require_sign_in`` before the router, so no page runs for
a visitor who is not let in. The rules it applies are ``access``'s (Streamlit-free)."""
from pathlib import Path

import streamlit as st

from pruneseg.dashboard import access


def require_sign_in():
    """Keep the dashboard behind sign-in when ``.streamlit/secrets.toml`` has an ``[auth]`` section: stop
    the script with a sign-in button (``st.login``) for a visitor who is not signed in, and with the reason
    and a sign-out button for one whose address is not of ``[pruneseg] allowed_domains``. Without ``[auth]``
    it does nothing. A secrets file that does not parse, a bad domain list or a missing Authlib stop every
    page too: a mistake must not open the dashboard."""
    secrets = _secrets()
    if not access.sign_in_configured(secrets):
        return
    try:
        domains = access.allowed_domains(secrets)
        problem = access.authlib_problem()
    except ValueError as error:
        problem = str(error)
    if problem:
        st.error(problem, icon=":material/lock:")
        st.stop()
    if not st.user.get("is_logged_in"):
        st.title("PruneSeg")
        st.markdown("Sign in to see this dashboard" + (f" (addresses of {', '.join('@' + d for d in domains)})."
                                                       if domains else "."))
        if st.button("Sign in", type="primary", icon=":material/login:"):
            st.login()
        st.stop()
    if problem := access.visitor_problem(st.user.to_dict(), domains):
        st.error(problem, icon=":material/lock:")
        if st.button("Sign out", icon=":material/logout:"):
            st.logout()
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {st.user.get('email') or st.user.get('name') or 'a visitor'}")
        if st.button("Sign out", icon=":material/logout:"):
            st.logout()


def _secrets():
    """The parsed ``secrets.toml`` as a dict; {} when there is none. One that exists but does not parse
    stops the page."""
    if st.secrets.load_if_toml_exists():
        return st.secrets.to_dict()
    if broken := [path for path in st.get_option("secrets.files") if Path(path).is_file()]:
        st.error(f"{broken[0]} could not be read (see the server's log); nothing is shown until it is fixed.",
                 icon=":material/lock:")
        st.stop()
    return {}
