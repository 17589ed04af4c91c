"""`make dev`'s last step: `dagster dev` that stops on Ctrl-C or SIGTERM however it was started.

A non-interactive shell starts a background job (`make dev &`, an IDE's task, CI) with SIGINT
ignored, and `dagster dev` maps SIGTERM to whatever SIGINT does: both signals were then
ignored, so only SIGKILL stopped it and its webserver kept the port. An ignored signal stays
ignored across exec, a default one does not, so SIGINT is reset to the default first.

    python tooling/dev.py -w workspace.yaml -h 127.0.0.1 -p 3000   # the arguments of `dagster dev`
"""

import os
import signal
import sys

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execv(sys.executable, [sys.executable, "-m", "dagster", "dev", *sys.argv[1:]])
