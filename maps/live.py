"""The live page (``/maps/live``): units on duty and the micro-grids still to patrol this shift,
polled from ``/api/live`` while the page is open (``static/live.js``)."""

from __future__ import annotations

from geo.settings import Settings
from maps.assets import url
from maps.i18n import N_, Translator
from maps.pages import check_offline
from maps.units_page import kind_names

POLL_S = 15
"""The page asks for the picture again this often: fixes arrive about once a minute."""

LIVE_TEXT = {
    "title": N_("Live: shift %(shift)s"),
    "as_of": N_("As of %(time)s · refreshed every %(s)s s"),
    "plan": N_("Following plan #%(id)s"),
    "no_plan": N_("No plan for this shift"),
    "units": N_("Units on duty (%(n)s)"),
    "age": N_("%(n)s min ago"),
    "no_fix": N_("No fix this shift"),
    "on_plan": N_("On plan"),
    "off_plan": N_("Off plan (%(m)s m)"),
    "not_planned": N_("Not in the plan"),
    "unregistered": N_("not registered"),
    "unpatrolled": N_("Red or orange, not patrolled this shift (%(n)s)"),
    "failed": N_("Cannot refresh: %(error)s"),
}
"""Every word live.js writes."""


def live_page(settings: Settings, t: Translator) -> str:
    """The live page; its data comes from ``/api/live``."""
    html = t.env.get_template("live.html").render(
        css=url("gridsafe/maps.css"),
        leaflet_css=url("vendor/leaflet/leaflet.css"),
        leaflet_js=url("vendor/leaflet/leaflet.js"),
        spread_js=url("gridsafe/spread.js"),
        script=url("gridsafe/live.js"),
        config={
            "text": {k: t._(v) for k, v in LIVE_TEXT.items()},
            "kinds": kind_names(t),
            "poll_s": POLL_S,
        },
    )
    return check_offline(html)
