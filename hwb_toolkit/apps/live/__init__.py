"""Live events at the scale of a room: participant pages with no kernel per participant.

Role: floor 4 (UI serving). ``hwb serve`` registers these Tornado handlers beside Voila,
on the same port. A participant's phone gets a plain server-rendered page and one small
script (``static/live.js``): no kernel, no CDN, usable with a keyboard and a screen
reader. Everyone's writes go through one :class:`~hwb_toolkit.apps.live.hub.LiveHub` in
the server process, which writes to the shared store off the event loop, reads and
analyses each session once per change (not once per participant) and pushes what
changed to every page over server-sent events.

- :mod:`~hwb_toolkit.apps.live.access`: join codes, screen keys, participant cookies.
- :mod:`~hwb_toolkit.apps.live.limits`: per-participant rate limits.
- :mod:`~hwb_toolkit.apps.live.views`: what the pages show, as JSON-ready dicts.
- :mod:`~hwb_toolkit.apps.live.hub`: the sessions' shared state and live streams.
- :mod:`~hwb_toolkit.apps.live.pages`: HTML templates and the QR code.
- :mod:`~hwb_toolkit.apps.live.handlers`: the HTTP addresses and their rules.

The facilitator opens, closes and moderates sessions in the Voila Workshop page
(:mod:`hwb_toolkit.apps.workshop`), which links to the projector screens.
"""
