"""The Streamlit dashboard's own code; all of it torch-free.

``views/`` holds what each page computes and draws (one module per page), and ``charts``, ``labels``,
``headline`` (the headline speed-up), ``pareto`` (the frontier's front and ship rule), ``checks``
(form checks), ``access`` (viewer mode, sign-in rules) and ``uploads`` are Streamlit-free and unit
tested. Only ``widgets`` (the pieces several pages share, ``launch_job``, the job panel), ``forms``
(one form per job kind) and ``sign_in`` import Streamlit.
The pages themselves live in ``app_pages/`` at the repository root, routed by ``app.py``.
"""
