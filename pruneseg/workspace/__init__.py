"""The workspace folder: ``layout`` names every folder and file in it, ``listing`` says what exists."""
