"""Open-file limits for the data-plane processes.

Every outbound connection, every client of the receiver and every NATS connection is a file
descriptor. systemd starts services with a soft ``RLIMIT_NOFILE`` of 1024 unless told
otherwise, which a pipeline worker with thousands of batches in flight to slow agents would
hit as ``EMFILE`` errors on connect (retried forever, never explained). So a process raises its
soft limit up to the hard one at start, and a worker sizes its connection pool to what it got.
"""

from __future__ import annotations

import logging
import resource

logger = logging.getLogger(__name__)

# Descriptors a worker needs besides its outbound pool: NATS, the metrics server, logs, DNS.
HEADROOM = 256


def raise_open_file_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (never above the hard limit, never lower
    than it is); returns the soft limit in force afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
            soft = ceiling
        except (ValueError, OSError) as exc:  # a container may refuse even within the hard limit
            logger.warning("could not raise the open-file limit from %s to %s: %s", soft, ceiling, exc)
    return soft


def connections_within_file_limit(max_connections: int) -> int:
    """``max_connections`` if the process may open that many sockets (raising its soft limit if
    needed), else as many as fit, with a warning naming the setting to change."""
    limit = raise_open_file_limit(max_connections + HEADROOM)
    if limit == resource.RLIM_INFINITY or limit >= max_connections + HEADROOM:
        return max_connections
    fitting = max(1, limit - HEADROOM)
    logger.warning("the open-file limit is %s, so this process keeps at most %s outbound connections instead "
                   "of %s: raise LimitNOFILE in the systemd unit (or ulimit -n) to use them all",
                   limit, fitting, max_connections)
    return fitting
