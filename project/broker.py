"""kombu's Redis transport, with the fix that keeps a worker alive when Redis goes away.

The fault (kombu 5.7, ``kombu/transport/redis.py``): when the broker connection drops, Celery's
consumer first ``collect()``s the connection, which sets the transport's ``client`` to None, and
then ``close()``s it. Closing the channel puts the messages the worker holds unacknowledged (late
acknowledgement, countdown retries waiting for their time) back in the queue:
``QoS.restore_unacked`` opens a Redis client, whose parameters are read from
``transport.client.hostname``, now None. The ``AttributeError`` is not a connection error, so
Celery does not catch it and the worker exits ("Unrecoverable error: AttributeError("'NoneType'
object has no attribute 'hostname'")"). An idle worker holds nothing, never restores, survives.
The same holds for acknowledging, after the reconnection, a task that was running during the
outage: its message belongs to the closed channel.

The fix: a channel whose connection is closed cannot reach Redis, so it does not try. The
messages stay where Redis keeps them (the ``unacked`` hash): kombu puts them back in the queue
after the visibility timeout, and in the meantime the alert dispatcher queues every due alert
again (notifications/dispatch.py: the database says what is due). A connection error while
restoring (Redis still down) is handled the same way. Running a task twice is harmless: the
sender claims each row with a conditional update.

Selected by settings.CELERY_BROKER_TRANSPORT when REDIS_URL is set; tested by
tests/notifications/test_integration.py (Redis stopped for 20 s with tasks in flight).
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)


class QoS(kombu_redis.QoS):
    def _reachable(self, client: Any) -> bool:
        transport = self.channel.connection
        return client is not None or (transport is not None and transport.client is not None)

    def _connection_errors(self) -> tuple[type[BaseException], ...]:
        errors: tuple[type[BaseException], ...] = self.channel.connection_errors
        return (*errors, OSError)

    def restore_unacked(self, client: Any = None) -> None:
        held = len(self._delivered)
        if not self._reachable(client):
            self._leave_in_redis(held, "the broker connection is closed")
            return
        try:
            super().restore_unacked(client)
        except self._connection_errors() as error:
            self._leave_in_redis(held, type(error).__name__)

    def _leave_in_redis(self, held: int, why: str) -> None:
        self._delivered.clear()
        logger.warning(
            "%d unacknowledged message(s) left in Redis (%s): redelivered after the visibility "
            "timeout; due alerts are queued again by the planner meanwhile",
            held,
            why,
        )

    def ack(self, delivery_tag: Any) -> None:
        if not self._reachable(None):
            # Its channel's connection is gone: the message stays in Redis' unacked hash and
            # comes back after the visibility timeout, when the task finds its row already done.
            logger.info("message acknowledged after its connection closed: left in Redis")
            super(kombu_redis.QoS, self).ack(delivery_tag)
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        if not self._reachable(None):
            # Same as above: Redis keeps the message and redelivers it after the timeout.
            super(kombu_redis.QoS, self).ack(delivery_tag)
            return
        super().reject(delivery_tag, requeue=requeue)


class Channel(kombu_redis.Channel):
    QoS = QoS


class Transport(kombu_redis.Transport):
    Channel = Channel
