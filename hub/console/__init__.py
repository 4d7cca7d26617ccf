"""The operators' web console at ``/console``: server-rendered (Jinja2), Thai first with an
English switch, our own small CSS and JavaScript served by the hub (no CDN, no build step)."""
