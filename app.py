"""The latentdash Explorer as a WSGI app.

    python app.py [--checkpoint PATH ... --dataset ID --host H --port P]   serve (same flags as
                                                                            `latentdash serve`)
    gunicorn app:server                                                     settings from
                                                                            LATENTDASH_* variables
`app` (dash.Dash) and `server` (its Flask instance) are module attributes for WSGI servers.
"""

import sys

if __name__ == "__main__":
    from latentdash.server.cli import main

    sys.exit(main())

from latentdash.server.app_factory import create_app  # noqa: E402
from latentdash.server.config import from_env  # noqa: E402

app = create_app(from_env())
server = app.server
