"""Moderation for the workshop page: the facilitator approves or hides contributions.

Role: floor 4 (UI). Nothing is ever deleted: approving or hiding a contribution
changes its status in the shared store (:meth:`hwb_toolkit.store.Store.set_contribution_status`),
which records who did it, when and why in the store's history. A hidden
contribution leaves the page and every report (they read visible contributions
only) but stays in :meth:`~hwb_toolkit.store.Store.history`.

:class:`ModerationPanel` is the facilitator's list: contributions waiting for
review (held by :func:`hwb_toolkit.apps.screening.needs_review`), with the reasons
they were held and Approve / Hide buttons, then the visible post-its with a Hide
button each. Cards are kept per contribution id, so a refresh of the page does
not rebuild (and take the keyboard focus from) a card that did not change.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import pandas as pd

from hwb_toolkit.apps.common import column, escape, heading, row, text_html
from hwb_toolkit.apps.screening import needs_review
from hwb_toolkit.store import Store
from hwb_toolkit.text.labels import sector_label

#: Reason recorded in the history when the facilitator gives none.
DEFAULT_HIDE_REASON = "hidden by the facilitator"
DEFAULT_APPROVE_REASON = "approved by the facilitator"


def approve(store: Store, contribution_id: str, by: str, reason: str | None = None) -> str:
    """Make a pending (or hidden) contribution visible; returns its previous status."""
    return store.set_contribution_status(
        contribution_id, "visible", by, (reason or "").strip() or DEFAULT_APPROVE_REASON
    )


def hide(store: Store, contribution_id: str, by: str, reason: str | None = None) -> str:
    """Hide a contribution from the page and the reports (kept in the history)."""
    return store.set_contribution_status(
        contribution_id, "hidden", by, (reason or "").strip() or DEFAULT_HIDE_REASON
    )


def _card_markup(record: dict, waiting: bool) -> str:
    reasons = needs_review(record.get("text")) if waiting else []
    held = (
        f'<p class="hwb-muted">Held because it {escape("; ".join(reasons))}.</p>'
        if reasons else ('<p class="hwb-muted">Held for review.</p>' if waiting else "")
    )
    who = sector_label(record.get("sector"))
    organisation = record.get("organisation")
    if organisation is not None and not pd.isna(organisation) and str(organisation).strip():
        who += f", {organisation}"
    return (
        f'<div class="hwb-postit{" hwb-pending" if waiting else ""}">'
        f'<p class="hwb-postit-text">{escape(record.get("text"))}</p>'
        f'<p class="hwb-muted">{escape(who)}</p>{held}</div>'
    )


class ModerationPanel:
    """The facilitator's review list (``.widget``); call :meth:`update` with fresh rows.

    ``on_change(contribution_id, status, reason)`` is called by the Approve/Hide
    buttons (the page wraps it in its friendly-error handler and refreshes).
    """

    def __init__(self, on_change: Callable[[str, str, str], None]) -> None:
        self._on_change = on_change
        self.reason = widgets.Text(
            description="Reason for hiding (kept in the history)",
            placeholder=DEFAULT_HIDE_REASON,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="100%", max_width="36rem"),
        )
        self.pending_box = column()
        self.visible_box = column()
        self.pending_count = text_html("Nothing is waiting for review.", css_class="hwb-muted")
        self.widget = column(
            heading("Waiting for your review", 3),
            self.pending_count,
            self.pending_box,
            heading("On the wall", 3),
            text_html("Hide a post-it to take it off the wall and out of the reports. "
                      "It is kept in the store's history, never deleted.", css_class="hwb-muted"),
            self.reason,
            self.visible_box,
        )
        self.widget.add_class("hwb-moderation")
        self._cards: dict[tuple[str, str], widgets.Widget] = {}

    def _card(self, record: dict, waiting: bool) -> widgets.Widget:
        contribution_id = str(record["contribution_id"])
        text = widgets.HTML(_card_markup(record, waiting),
                            layout=widgets.Layout(flex="1 1 16rem", min_width="0"))
        buttons = []
        if waiting:
            approve_button = widgets.Button(description="Approve", button_style="success",
                                            tooltip="Show this post-it to everyone")
            approve_button.on_click(
                lambda _b: self._on_change(contribution_id, "visible", DEFAULT_APPROVE_REASON))
            buttons.append(approve_button)
        hide_button = widgets.Button(description="Hide", button_style="danger",
                                     tooltip="Take this post-it off the wall and out of reports")
        hide_button.on_click(
            lambda _b: self._on_change(contribution_id, "hidden", self.reason.value))
        buttons.append(hide_button)
        card = row(text, *buttons)
        card.add_class("hwb-moderation-card")
        card.add_class(f"hwb-contribution-{_css_safe(contribution_id)}")
        return card

    def update(self, contributions: pd.DataFrame) -> None:
        """Show the pending and visible rows of ``contributions`` (canonical columns + status)."""
        records = contributions.to_dict("records")
        wanted: dict[tuple[str, str], dict] = {}
        for record in records:
            if record["status"] in ("pending", "visible"):
                wanted[(str(record["contribution_id"]), record["status"])] = record
        for key in list(self._cards):
            if key not in wanted:
                self._cards.pop(key).close()
        for key, record in wanted.items():
            if key not in self._cards:
                self._cards[key] = self._card(record, waiting=key[1] == "pending")
        pending = [self._cards[k] for k in wanted if k[1] == "pending"]
        visible = [self._cards[k] for k in wanted if k[1] == "visible"]
        if [id(c) for c in self.pending_box.children] != [id(c) for c in pending]:
            self.pending_box.children = pending
        if [id(c) for c in self.visible_box.children] != [id(c) for c in visible]:
            self.visible_box.children = visible
        count = len(pending)
        self.pending_count.value = (
            '<p class="hwb-muted">Nothing is waiting for review.</p>' if count == 0 else
            f"<p><strong>{count} post-it{'s' if count != 1 else ''} waiting</strong>: "
            "only the author and you can see them until you approve them.</p>"
        )


def _css_safe(value: str) -> str:
    """A contribution id as a CSS class fragment (letters, digits, - and _ only)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in value)
