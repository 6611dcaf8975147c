"""Publishing never drops silently: a full paho queue waits, a lost connection is counted."""

from collections.abc import Iterator
import logging
import queue
import signal
import threading
import time

import pytest

from energy_edge_sim.publisher import (
    BrokerAddress,
    BrokerUnavailableError,
    ConnectionChange,
    Inbound,
    Publisher,
)
from tests.helpers.mosquitto import Broker

from .conftest import Recorder


def publisher_for(broker: Broker, **limits: float) -> Publisher:
    """A connected publisher on the test broker."""
    inbox: queue.Queue[Inbound | ConnectionChange] = queue.Queue()
    address = BrokerAddress(
        "127.0.0.1", broker.port, f"pub-{time.monotonic_ns()}", broker.username, broker.password
    )
    publisher = Publisher(
        address, will=("test/will", "gone"), subscriptions=["test/in"], inbox=inbox, **limits
    )  # type: ignore[arg-type]
    publisher.connect()
    return publisher


@pytest.fixture
def paused(broker: Broker) -> Iterator[Broker]:
    """The broker, to be frozen with SIGSTOP; always thawed at the end."""
    yield broker
    assert broker.process is not None
    broker.process.send_signal(signal.SIGCONT)


def burst(publisher: Publisher, count: int) -> threading.Thread:
    """Publish `count` QoS 1 messages from a thread."""
    thread = threading.Thread(
        target=lambda: [publisher.publish(f"test/burst/{i}", str(i), qos=1) for i in range(count)],
        daemon=True,
    )
    thread.start()
    return thread


def test_a_full_paho_queue_waits_for_acknowledgements(
    paused: Broker, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """With the broker frozen, paho answers rc 15 once its queue is full: the publisher waits, and
    every message arrives once the broker resumes."""
    publisher = publisher_for(paused, max_queued=50)
    assert paused.process is not None
    paused.process.send_signal(signal.SIGSTOP)
    with caplog.at_level(logging.WARNING):
        thread = burst(publisher, 200)
        time.sleep(0.6)
        assert thread.is_alive(), "blocked, not dropping"
        assert publisher.published < 200
        paused.process.send_signal(signal.SIGCONT)
        thread.join(20)
    assert not thread.is_alive()
    assert "rc 15" in caplog.text
    recorder.wait_for(lambda m: m.topic == "test/burst/199", timeout=10)
    recorder.settle()
    assert len({m.topic for m in recorder.messages if m.topic.startswith("test/burst/")}) == 200
    assert publisher.dropped == 0
    publisher.disconnect()


def test_unacknowledged_messages_are_bounded(paused: Broker, recorder: Recorder) -> None:
    """Below paho's limit, the publisher itself waits once too many messages await their ack."""
    publisher = publisher_for(paused, max_unacknowledged=30)
    assert paused.process is not None
    paused.process.send_signal(signal.SIGSTOP)
    thread = burst(publisher, 100)
    time.sleep(0.5)
    assert thread.is_alive()
    assert publisher.published <= 30
    paused.process.send_signal(signal.SIGCONT)
    thread.join(20)
    recorder.wait_for(lambda m: m.topic == "test/burst/99", timeout=10)
    publisher.disconnect()


def test_a_stuck_broker_is_reported_and_publishing_goes_on(
    paused: Broker, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """If acknowledgements never come, the wait ends with a warning rather than hanging forever."""
    publisher = publisher_for(paused, max_unacknowledged=5, ack_wait_s=0.2)
    assert paused.process is not None
    paused.process.send_signal(signal.SIGSTOP)
    with caplog.at_level(logging.WARNING):
        thread = burst(publisher, 20)
        thread.join(10)
    assert not thread.is_alive()
    assert "still unacknowledged after 0.2 s" in caplog.text
    paused.process.send_signal(signal.SIGCONT)
    recorder.wait_for(lambda m: m.topic == "test/burst/19", timeout=10)
    publisher.disconnect()


def test_while_disconnected_nothing_is_lost_silently(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """States published without a broker are counted and logged; retained ones come back later."""
    publisher = publisher_for(broker)
    broker.stop()
    deadline = time.monotonic() + 5
    while publisher.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not publisher.connected
    assert isinstance(publisher.inbox.get(timeout=1), ConnectionChange)
    with caplog.at_level(logging.WARNING):
        assert publisher.publish("test/state", "42") is False
        assert publisher.publish("test/retained", "kept", qos=1, retain=True) is False
    assert publisher.dropped == 1
    assert "message to test/state not sent (not connected); 1 lost so far" in caplog.text
    broker.start()
    reconnected = publisher.inbox.get(timeout=15)
    assert reconnected == ConnectionChange(connected=True)
    recorder = Recorder(broker).start(("test/#",))
    try:
        assert publisher.republish_retained() == 1
        assert recorder.wait_for(lambda m: m.topic == "test/retained").payload == b"kept"
        publisher.publish("test/retained", "", qos=1, retain=True)
        assert publisher.retained_topics() == set()
    finally:
        recorder.stop()
        publisher.disconnect()


def test_messages_received_are_handed_over(broker: Broker, recorder: Recorder) -> None:
    """Subscribed topics arrive in the inbox, with their retain flag."""
    publisher = publisher_for(broker)
    recorder.publish("test/in", "hello", retain=True)
    item = publisher.inbox.get(timeout=5)
    assert item == Inbound("test/in", b"hello", retain=False) or item == Inbound(
        "test/in", b"hello", retain=True
    )
    publisher.disconnect()


def test_refused_and_unreachable_brokers_raise_clear_errors(broker: Broker) -> None:
    """Bad credentials and closed ports become `BrokerUnavailableError` with the reason."""
    inbox: queue.Queue[Inbound | ConnectionChange] = queue.Queue()
    refused = Publisher(
        BrokerAddress("127.0.0.1", broker.port, "bad", broker.username, "wrong"),
        will=("w", "x"),
        subscriptions=[],
        inbox=inbox,
    )
    with pytest.raises(BrokerUnavailableError, match="refused the connection: Not authorized"):
        refused.connect()
    broker.stop()
    with pytest.raises(BrokerUnavailableError, match="cannot reach the MQTT broker"):
        Publisher(
            BrokerAddress("127.0.0.1", broker.port, "x"),
            will=("w", "x"),
            subscriptions=[],
            inbox=inbox,
        ).connect()


def test_a_flush_that_times_out_says_how_many_messages_wait(
    paused: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """At shutdown, messages the frozen broker never acknowledged are counted, not forgotten."""
    publisher = publisher_for(paused)
    assert paused.process is not None
    paused.process.send_signal(signal.SIGSTOP)
    for index in range(3):
        assert publisher.publish(f"test/pending/{index}", "1", qos=1)
    with caplog.at_level(logging.WARNING):
        assert publisher.flush(0.3) is False
    assert "3 messages unacknowledged at shutdown" in caplog.text
    paused.process.send_signal(signal.SIGCONT)
    assert publisher.flush(10) is True
    publisher.disconnect()
