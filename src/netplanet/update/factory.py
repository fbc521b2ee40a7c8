"""`PipelineFactory`: what every poller is handed to build its UpdatePipeline.

The composition root (planet.py, `Planet.pipeline`) is the one place that builds an
UpdatePipeline from Settings, with the planet's process pool; the runtime loops, the admin's
"poll now" and the demo take the factory and pass only what is theirs to choose (a clock, a
policy, a sealing cadence) as overrides. Tests may hand in any callable of this shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from netplanet.fetch.http import Fetcher
    from netplanet.update.pipeline import UpdatePipeline


class PipelineFactory(Protocol):
    """Builds an UpdatePipeline over `fetcher`; keyword overrides go to UpdatePipeline."""

    def __call__(self, fetcher: Fetcher, /, **overrides: Any) -> UpdatePipeline: ...
