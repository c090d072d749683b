"""When a strike happened: time expressions (``parse``), the ``strike_times`` component
(``component``), the event's time from its mentions (``assemble``) and the date scorer
(``scorer``)."""
