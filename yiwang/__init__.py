"""yiwang (一网): an integrated government-service platform for Chinese cities."""

from yiwang.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
