"""The Streamlit dashboard's own code.

``charts``, ``helpers``, ``pruning`` and ``deploy`` are Streamlit-free and torch-free (plotly
figures, overlays, table rows, form checks) and unit tested; ``widgets`` holds the Streamlit
pieces that several pages share.
The pages themselves live in ``app_pages/`` at the repository root, routed by ``app.py``.
"""
