"""The package's version, written here once: the build (``[tool.hatch.version]``),
``smsflow.__version__``, the User-Agent and ``smsflow --version`` read it."""

__version__ = "1.0.0"
