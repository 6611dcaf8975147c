"""What ACL tests do with a connected paho client: listen on a filter, publish and leave."""

from collections.abc import Iterator
import contextlib
import queue

import paho.mqtt.client as mqtt


@contextlib.contextmanager
def receiving(client: mqtt.Client, topic_filter: str, timeout: float) -> Iterator[queue.Queue[str]]:
    """The topics of what the connected `client` receives on `topic_filter` while the block
    runs (subscribed before it starts); the client leaves at the end."""
    received: queue.Queue[str] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    client.on_message = lambda _client, _data, message: received.put(message.topic)
    client.on_subscribe = lambda *_args: subscribed.put(True)
    client.subscribe(topic_filter, qos=1)
    subscribed.get(timeout=timeout)
    try:
        yield received
    finally:
        client.disconnect()
        client.loop_stop()


def publish_and_leave(client: mqtt.Client, *topics: str, timeout: float) -> None:
    """Publish `{}` to each topic in order at QoS 1, wait until the broker took each (or
    dropped it: a refused publish is acknowledged too), and leave."""
    for topic in topics:
        client.publish(topic, b"{}", qos=1).wait_for_publish(timeout=timeout)
    client.disconnect()
    client.loop_stop()
