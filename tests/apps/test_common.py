"""Tests for hwb_toolkit.apps.common: how a page handler's failure reaches the partner and the log."""

from __future__ import annotations

import logging

from hwb_toolkit.apps.common import friendly_errors, status_line
from hwb_toolkit.errors import InputError


def test_refused_input_is_explained_and_logged_without_a_traceback(caplog):
    status = status_line()

    @friendly_errors(status, what="adding an action")
    def add(_):
        raise InputError("the end date is before the start date", row=3, column="end")

    with caplog.at_level(logging.INFO, logger="hwb_toolkit"):
        assert add(None) is None
    assert "end date is before the start date" in status.value
    (record,) = [r for r in caplog.records if "adding an action" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "refused" in record.getMessage()


def test_an_unexpected_failure_is_logged_with_its_traceback_but_not_shown(caplog):
    status = status_line()

    @friendly_errors(status, what="area change")
    def change(_):
        raise KeyError("secret internal detail")

    with caplog.at_level(logging.INFO, logger="hwb_toolkit"):
        change(None)
    assert "secret internal detail" not in status.value and "Sorry" in status.value
    (record,) = [r for r in caplog.records if "area change" in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info is not None

    @friendly_errors(status, what="area change")
    def works(_):
        return "ok"

    assert works(None) == "ok" and "Sorry" not in status.value  # a success clears the message
