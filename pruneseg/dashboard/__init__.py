"""The Streamlit dashboard's own code; all of it torch-free.

``views/`` holds what pages compute and draw (a module named after a page is that page's alone; what
several pages or the report draw has a module named for what it holds), and ``charts``, ``labels``,
``headline`` (the headline speed-up), ``pareto`` (the frontier's front and ship rule), ``checks``
(form checks), ``access`` (viewer mode, sign-in rules) and ``uploads`` are Streamlit-free and unit
tested. Only ``widgets`` (the pieces several pages share, ``launch_job``, the job panel), ``forms`` and
``deploy_forms`` (one form per job kind), ``sign_in``, ``pruning_panels`` (the Prune page's panels) and
``prediction_viewer`` (the Dataset page's prediction beside the truth) import Streamlit.
The pages themselves live in ``app_pages/`` at the repository root, routed by ``app.py``.
"""
