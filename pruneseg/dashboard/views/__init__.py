"""One view module per page: what the page computes and draws, as pure functions tested without Streamlit."""
