"""The live hub (hwb_toolkit/apps/live/hub.py): one read and one message per change, for
every stream; analysis off the event loop; changes made elsewhere picked up.

The hub runs here with thread pools instead of helper processes (same functions)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from hwb_toolkit.apps.live import worker
from hwb_toolkit.apps.live.hub import QUEUE_LIMIT, RESYNC, LiveHub, Subscriber
from hwb_toolkit.apps.session import new_post_it
from hwb_toolkit.errors import StoreError
from hwb_toolkit.store import Store

from ..conftest import run_in_own_loop


@pytest.fixture
def workspace(private_workspace):
    private_workspace.store().open_session(
        "ws-1", "Moving more", ["walking-cycling", "green-spaces"], ["Parks should be lit"],
        by="facilitator", dots_per_person=3)
    return private_workspace


def make_hub(workspace) -> LiveHub:
    return LiveHub(workspace.root, reader=ThreadPoolExecutor(2), analyser=ThreadPoolExecutor(1),
                   refresh_pause=0.05, forming_pause=0.05, watch_seconds=0.1)


def events(subscriber: Subscriber) -> list[tuple[str, dict]]:
    found = []
    while not subscriber.queue.empty():
        message = subscriber.queue.get_nowait()
        event, data = message.decode().strip().split("\n")
        found.append((event.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return found


async def until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)


def post_it(hub, channel, text: str, author: str = "p_1111111111111111"):
    return hub.in_store(hub.store.add_contributions,
                        new_post_it(channel.row, author, text, sector="resident"), by=author)


def test_first_readers_share_one_read_and_an_unknown_session_is_refused(workspace, monkeypatch):
    reads = []
    real = worker.read_views
    monkeypatch.setattr(worker, "read_views", lambda *a: reads.append(a) or real(*a))
    hub = make_hub(workspace)

    async def scenario():
        channels = await asyncio.gather(*(hub.channel("ws-1") for _ in range(20)))
        with pytest.raises(StoreError, match="no workshop session 'nope'"):
            await hub.channel("nope")
        return channels

    channels = run_in_own_loop(scenario, timeout=60)
    hub.close()
    assert len({id(c) for c in channels}) == 1
    assert len([r for r in reads if r[1] == "ws-1"]) == 1
    snapshot = channels[0].snapshot()
    assert snapshot["session"]["name"] == "Moving more" and snapshot["wall"] == []
    assert [row["theme"] for row in snapshot["tallies"]["dots"]] == ["walking-cycling",
                                                                      "green-spaces"]


def test_a_burst_of_writes_is_folded_into_few_reads_and_every_stream_gets_each_post_it(
        workspace, monkeypatch):
    reads = []
    real = worker.read_views
    monkeypatch.setattr(worker, "read_views", lambda *a: reads.append(a) or real(*a))
    hub = make_hub(workspace)

    async def scenario():
        channel = await hub.channel("ws-1")
        streams = [channel.subscribe(f"p_{n}") for n in range(30)]
        reads.clear()
        for n in range(40):
            await post_it(hub, channel, f"Idea number {n}")
            channel.request_refresh()
        await until(lambda: len(channel.wall) == 40)
        await asyncio.sleep(0.2)
        return streams

    streams = run_in_own_loop(scenario, timeout=60)
    hub.close()
    assert len(reads) < 40  # folded, not one read per write
    for stream in streams:
        seen = [post["text"] for event, data in events(stream) if event == "update"
                for post in data.get("add", [])]
        assert sorted(seen) == sorted(f"Idea number {n}" for n in range(40))


def test_what_is_forming_is_sent_once_worked_out_and_only_when_it_changes(workspace):
    hub = make_hub(workspace)

    async def scenario():
        channel = await hub.channel("ws-1")
        stream = channel.subscribe(None)
        await until(lambda: channel.forming is not None)
        first = channel.forming
        await post_it(hub, channel, "Safe cycle lanes to school and walking routes")
        channel.request_refresh()
        await until(lambda: channel.forming != first and channel.forming["themes"])
        await asyncio.sleep(0.3)
        return channel, stream

    channel, stream = run_in_own_loop(scenario, timeout=60)
    hub.close()
    formings = [data["forming"] for event, data in events(stream) if event == "forming"]
    assert formings[-1] == channel.forming
    assert formings[-1]["themes"][0]["size"] == 1
    assert all(a != b for a, b in zip(formings, formings[1:], strict=False))


def test_a_change_made_by_another_process_reaches_the_streams(workspace):
    hub = make_hub(workspace)
    other = Store(workspace.root / "store.sqlite")  # as the facilitator's Voila page

    async def scenario():
        channel = await hub.channel("ws-1")
        stream = channel.subscribe(None)
        other.add_contributions(pd.DataFrame({
            "contribution_id": ["held"], "session": "ws-1", "kind": "post_it",
            "text": ["Held for review"], "author": "p_2"}), status="pending")
        await asyncio.sleep(0.5)
        assert "held" not in channel.wall  # pending: not on the wall
        other.set_contribution_status("held", "visible", "facilitator")
        await until(lambda: "held" in channel.wall)
        other.close_session("ws-1", by="facilitator")
        await until(lambda: not channel.is_open)
        return stream

    stream = run_in_own_loop(scenario, timeout=60)
    other.close()
    hub.close()
    updates = [data for event, data in events(stream) if event == "update"]
    assert [post["id"] for data in updates for post in data.get("add", [])] == ["held"]
    assert updates[-1]["session"]["open"] is False


def test_a_stream_that_falls_behind_gets_a_fresh_snapshot_instead_of_a_backlog():
    async def scenario():
        subscriber = Subscriber("p_1")
        for n in range(QUEUE_LIMIT + 5):
            subscriber.send(f"message {n}".encode())
        waiting = subscriber.queue.qsize()
        first = await subscriber.next(1.0)
        subscriber.send(b"after the snapshot")  # built now, so later changes count again
        return waiting, first, await subscriber.next(1.0), await subscriber.next(0.01)

    assert run_in_own_loop(scenario) == (1, RESYNC, b"after the snapshot", None)


def test_refreshed_returns_once_a_read_after_the_write_is_applied(workspace):
    hub = make_hub(workspace)

    async def scenario():
        channel = await hub.channel("ws-1")
        seen = []
        for n in range(5):
            await post_it(hub, channel, f"Shown on the next page {n}")
            await channel.refreshed()
            seen.append(len(channel.wall))
        return seen

    assert run_in_own_loop(scenario, timeout=60) == [1, 2, 3, 4, 5]
    hub.close()
