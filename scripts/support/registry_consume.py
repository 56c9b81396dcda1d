"""An independent registry consumer for the tests: Confluent's Python client and
its AvroDeserializer (or JSONDeserializer, which validates each record against
its registered JSON Schema), reading Confluent-framed records through a schema
registry.

Usage: registry_consume.py BOOTSTRAP REGISTRY_URL TOPIC MAX_MESSAGES TIMEOUT_MS [avro|json]
Prints one JSON line per record; stops after MAX_MESSAGES (0: none) or when no
record came for TIMEOUT_MS. The consumer is assigned every partition of the
topic, without joining a group, and the TIMEOUT_MS clock starts only once it
has read up to the end offsets the partitions had when it started (or
CATCH_UP_S passed): a reader starved of CPU on a busy machine, whose first
fetch comes late, cannot use up the wait before reading what is there.
"""

import base64
import json
import os
import struct
import sys
import time
import uuid

# How long the reader may take to reach the end offsets it found at start
# before the idle timeout applies anyway (with a warning on stderr).
CATCH_UP_S = 120

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def schema_id(data):
    if data is None or len(data) < 5 or data[0] != 0:
        return None
    return struct.unpack(">I", data[1:5])[0]


def plain(value):
    """JSON-able form of what fastavro gives (bytes, decimals, datetimes)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def main():
    bootstrap, registry_url, topic, max_messages, timeout_ms = sys.argv[1:6]
    value_format = sys.argv[6] if len(sys.argv) > 6 else "avro"
    max_messages, timeout_ms = int(max_messages), int(timeout_ms)
    # A request timeout, so a lost response is retried (the client retries
    # transport errors) instead of blocking the reader, and its test, forever.
    registry_config = {"url": registry_url, "timeout": 10}
    if os.environ.get("SCHEMA_REGISTRY_CA"):
        # An https registry signed by the harness's own CA (scripts/registry --tls).
        registry_config["ssl.ca.location"] = os.environ["SCHEMA_REGISTRY_CA"]
    registry = SchemaRegistryClient(registry_config)
    if value_format == "json":
        # Imported only here: it needs the [json] extras (jsonschema).
        from confluent_kafka.schema_registry.json_schema import JSONDeserializer

        # No schema of its own: the writer's, fetched by the id in the frame,
        # and each record validated against it.
        deserialize = JSONDeserializer(None, schema_registry_client=registry)
    else:
        deserialize = AvroDeserializer(registry)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"avro-consume-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    seen = 0
    try:
        partitions = partitions_of(consumer, topic, timeout_ms)
        if not partitions:
            return  # no such topic within the timeout: nothing to read
        ends = end_offsets(consumer, topic, partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        catch_up_deadline = time.monotonic() + CATCH_UP_S
        caught_up = False
        last = time.monotonic()
        while max_messages == 0 or seen < max_messages:
            if not caught_up:
                caught_up = reached(consumer, topic, ends)
                if not caught_up and time.monotonic() > catch_up_deadline:
                    print(
                        f"registry_consume: not at the end offsets {ends} after "
                        f"{CATCH_UP_S} s; stopping on the idle timeout",
                        file=sys.stderr,
                    )
                    caught_up = True
                if caught_up:
                    last = time.monotonic()  # the idle clock starts now
            if caught_up and (time.monotonic() - last) * 1000 > timeout_ms:
                break
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                print(f"registry_consume: {msg.error()}", file=sys.stderr)
                continue
            last = time.monotonic()
            line = {"partition": msg.partition(), "offset": msg.offset()}
            key, value = msg.key(), msg.value()
            line["value_schema_id"] = schema_id(value)
            line["value"] = plain(
                deserialize(value, SerializationContext(topic, MessageField.VALUE))
            )
            line["key_schema_id"] = schema_id(key)
            if line["key_schema_id"] is not None:
                line["key"] = plain(
                    deserialize(key, SerializationContext(topic, MessageField.KEY))
                )
            elif key is not None:
                line["key_base64"] = base64.b64encode(key).decode()
            print(json.dumps(line), flush=True)
            seen += 1
    finally:
        consumer.close()


def end_offsets(consumer, topic, partitions):
    """Each partition's end offset (high watermark) now; a partition whose
    offsets cannot be had within 10 s counts as empty."""
    ends = {}
    for p in partitions:
        try:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            ends[p] = high
        except KafkaException as error:
            print(f"registry_consume: end offset of partition {p}: {error}", file=sys.stderr)
            ends[p] = 0
    return ends


def reached(consumer, topic, ends):
    """Whether the consumer's position is at or past `ends` on every
    partition (librdkafka moves the position past transaction markers)."""
    pending = [p for p, end in ends.items() if end > 0]
    if not pending:
        return True
    positions = consumer.position([TopicPartition(topic, p) for p in pending])
    return all(tp.offset >= ends[tp.partition] for tp in positions)


def partitions_of(consumer, topic, timeout_ms):
    """The topic's partition ids, asking until the cluster's metadata has the
    topic (one created just before may not be there yet) or TIMEOUT_MS ran out."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            metadata = consumer.list_topics(topic, timeout=10)
            found = metadata.topics.get(topic)
            if found is not None and found.error is None and found.partitions:
                return sorted(found.partitions)
        except KafkaException as error:
            print(f"registry_consume: {error}", file=sys.stderr)
        if time.monotonic() >= deadline:
            return []
        time.sleep(0.2)


if __name__ == "__main__":
    main()
