"""Server-rendered pages (Jinja2) with small HTMX partials; every form works without JS too."""
