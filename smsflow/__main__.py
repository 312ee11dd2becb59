"""``python -m smsflow``: the same as the ``smsflow`` command."""

from ._cli import main

raise SystemExit(main())
