"""A group assignor that keeps partition numbers together, as Kafka Streams does for co-partitioned topics:
partition p of every subscribed topic goes to the same member. A stage whose state for partition p follows
from partition p of several inputs (the notifier: `archive.segments` and `notifier.deliveries`) needs all of
them on the member that owns that state. aiokafka's round-robin assignor spreads each topic's partitions on
its own, and its range assignor lines them up only while every topic has the same partition count.

Numbers go round-robin over the members in member id order (a static member's id starts with its instance
id). A topic that only some members subscribe to is spread over those alone: one stage's replicas all
subscribe to the same topics, so that happens only while a deployment rolls out.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping

from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata

log = logging.getLogger(__name__)


class CoPartitionedAssignor(AbstractPartitionAssignor):  # type: ignore[misc]
    name = "copartitioned"
    version = 0

    @classmethod
    def assign(cls, cluster: ClusterMetadata, members: Mapping[str, ConsumerProtocolMemberMetadata],
               ) -> dict[str, ConsumerProtocolMemberAssignment]:
        ordered = sorted(members)
        subscribers: dict[str, list[str]] = defaultdict(list)
        for member in ordered:
            for topic in members[member].subscription:
                subscribers[topic].append(member)
        partitions = {topic: cluster.partitions_for_topic(topic) or set() for topic in subscribers}
        if len({len(p) for p in partitions.values()}) > 1:
            log.warning("co-partitioned topics with different partition counts: %s",
                        {t: len(p) for t, p in sorted(partitions.items())})
        assignment: dict[str, dict[str, list[int]]] = {member: defaultdict(list) for member in ordered}
        for number in sorted(set().union(*partitions.values())):
            owner = ordered[number % len(ordered)]
            for topic, readers in subscribers.items():
                if number in partitions[topic]:
                    member = owner if owner in readers else readers[number % len(readers)]
                    assignment[member][topic].append(number)
        return {member: ConsumerProtocolMemberAssignment(cls.version, sorted(topics.items()), b"")
                for member, topics in assignment.items()}

    @classmethod
    def metadata(cls, topics: Iterable[str]) -> ConsumerProtocolMemberMetadata:
        return ConsumerProtocolMemberMetadata(cls.version, list(topics), b"")

    @classmethod
    def on_assignment(cls, assignment: ConsumerProtocolMemberAssignment) -> None:
        pass  # no state to keep between rebalances
