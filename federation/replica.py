"""Which replica this is, for the records replicas share in the graph (pull leases, after-sync
claims): host, process and a random part, since process ids repeat across restarts."""

from __future__ import annotations

import os
import socket
import uuid


def replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
