"""search_ui: the web interface (FastAPI, server-rendered pages, JSON API).

``search_ui.app.create_app(settings)`` builds the app; ``search_ui.cli.serve``
runs it (``kholuu serve``, ``kholuu demo``). What a caller may see is decided in
``search_ui.access`` only.
"""
