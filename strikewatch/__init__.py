"""strikewatch: always-on monitoring of military strikes and drone attacks in the news.

Shared core: record models (``models``), the topic catalogue (``topics``), settings
(``settings``), the local stack (``stack``) and the ``strikewatch`` command (``cli``).
"""

__version__ = "0.1.0"
