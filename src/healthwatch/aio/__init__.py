"""Small concurrency and time helpers shared by every layer above.

Standard library only: the health core builds on these too.
"""

from healthwatch.aio.backoff import Backoff
from healthwatch.aio.clock import Clock, ManualClock, SystemClock

__all__ = ["Backoff", "Clock", "ManualClock", "SystemClock"]
