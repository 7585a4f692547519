"""What pages compute and draw, as pure functions tested without Streamlit: a module named after a page
is that page's alone; what several pages (or the report) draw is in a module named for what it holds."""
