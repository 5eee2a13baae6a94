"""``callrec ui``: a web page for the people around the recording, served by their own process.

It runs as the person who starts it and talks to the daemon through its socket exactly as the CLI
does, so the daemon sees that person's account and its role table decides what each page shows.
The server listens on 127.0.0.1 only, answers only its own account's connections, needs the
random token it prints (then a cookie), and loads nothing from the network (``docs/ui.md``).
"""

from callrec.ui._run import run_ui

__all__ = ["run_ui"]
