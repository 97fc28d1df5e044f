"""Split settings: ``base`` (shared), ``embedded`` (default), ``production``, ``test``."""
