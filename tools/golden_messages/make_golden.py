#!/usr/bin/python3
"""Writes src/protocol/tests/golden_messages.h: Kafka message bodies encoded by an
independent encoder, kafka-python's protocol classes (python3-kafka 2.0.2).

Run with the system interpreter, which is the one that sees python3-kafka:

    /usr/bin/python3 tools/golden_messages/make_golden.py [output.h]

Two kinds of goldens:
  - hand-written ones with chosen field values, which golden_test.cc checks field by field;
  - one generated golden for every other request/response class kafka-python has for an
    API we have a schema for, filled with deterministic values; the test decodes and
    re-encodes them.
Every golden must decode with our codec to the end and re-encode to identical bytes.
"""

import os
import re
import sys

import kafka
from kafka.protocol import admin, commit, fetch, group, metadata, offset, produce
from kafka.protocol.types import Array, Boolean, Bytes, Int8, Int16, Int32, Int64, Schema, String

MODULES = [admin, commit, fetch, group, metadata, offset, produce]

# kafka-python class name prefix -> our message name prefix (the Kafka API name).
API_NAMES = {
    "ApiVersion": "ApiVersions",
    "SaslHandShake": "SaslHandshake",
    "Offset": "ListOffsets",
    "GroupCoordinator": "FindCoordinator",
}
# APIs kafka-python knows that Samsa has no schema for.
SKIPPED_APIS = {"CreateAcls", "DeleteAcls", "DescribeAcls"}

# Classes whose kafka-python schema disagrees with Kafka's protocol, so their bytes are not a
# valid golden. Each entry says why (checked against the protocol reference).
KNOWN_BAD = {
    # ListOffsets v4+ CurrentLeaderEpoch is an int32 in Kafka; kafka-python encodes an int64.
    "OffsetRequest_v4": "current_leader_epoch encoded as int64",
    "OffsetRequest_v5": "current_leader_epoch encoded as int64",
    # Produce v8 responses carry RecordErrors and ErrorMessage per partition.
    "ProduceResponse_v8": "RecordErrors and ErrorMessage missing",
    # FindCoordinator v1 responses start with ThrottleTimeMs.
    "GroupCoordinatorResponse_v1": "ThrottleTimeMs missing",
    # DescribeGroups v3 responses end each group with AuthorizedOperations.
    "DescribeGroupsResponse_v3": "AuthorizedOperations missing",
}

RECORDS = bytes(range(0, 40))  # opaque to the message codec: any bytes round-trip


def hand_written():
    """(id, kafka-python instance, our message name, version)."""
    g = []

    def add(ident, obj, name, version):
        g.append((ident, obj, name, version))

    add("api_versions_request_v0", admin.ApiVersionRequest_v0(), "ApiVersionsRequest", 0)
    add("api_versions_response_v1",
        admin.ApiVersionResponse_v1(0, [(0, 0, 8), (3, 0, 5), (18, 0, 2)], 10),
        "ApiVersionsResponse", 1)
    add("metadata_request_v0", metadata.MetadataRequest_v0(["alpha", "beta"]), "MetadataRequest", 0)
    add("metadata_request_v1_all", metadata.MetadataRequest_v1(None), "MetadataRequest", 1)
    add("metadata_request_v4", metadata.MetadataRequest_v4(["alpha"], False), "MetadataRequest", 4)
    add("metadata_response_v1",
        metadata.MetadataResponse_v1(
            [(1, "host1", 9092, "rack-a"), (2, "host2", 9093, None)], 1,
            [(0, "alpha", False, [(0, 0, 1, [1, 2], [1]), (0, 1, 2, [2, 1], [2, 1])])]),
        "MetadataResponse", 1)
    add("metadata_response_v5",
        metadata.MetadataResponse_v5(
            7, [(1, "h", 9092, None)], "cluster-1", 1,
            [(3, "missing", False, []), (0, "t", True, [(9, 0, -1, [1], [], [1])])]),
        "MetadataResponse", 5)
    add("produce_request_v3",
        produce.ProduceRequest_v3(None, -1, 30000, [("alpha", [(0, RECORDS), (1, None)])]),
        "ProduceRequest", 3)
    add("produce_response_v7",
        produce.ProduceResponse_v7([("alpha", [(0, 0, 41, -1, 0), (1, 6, -1, -1, -1)])], 0),
        "ProduceResponse", 7)
    add("fetch_request_v4",
        fetch.FetchRequest_v4(-1, 500, 1, 52428800, 1, [("alpha", [(0, 100, 1048576)])]),
        "FetchRequest", 4)
    add("fetch_response_v4",
        fetch.FetchResponse_v4(
            0, [("alpha", [(0, 0, 142, 140, [(4000, 120)], RECORDS), (1, 1, -1, -1, None, b"")])]),
        "FetchResponse", 4)
    add("list_offsets_request_v1",
        offset.OffsetRequest_v1(-1, [("alpha", [(0, -1), (1, -2)])]), "ListOffsetsRequest", 1)
    add("list_offsets_response_v1",
        offset.OffsetResponse_v1([("alpha", [(0, 0, -1, 142)])]), "ListOffsetsResponse", 1)
    add("join_group_request_v1",
        group.JoinGroupRequest_v1("grp", 10000, 300000, "", "consumer",
                                  [("range", b"\x00\x01"), ("roundrobin", b"")]),
        "JoinGroupRequest", 1)
    add("join_group_response_v2",
        group.JoinGroupResponse_v2(0, 0, 3, "range", "m-1", "m-1", [("m-1", b"meta"), ("m-2", b"")]),
        "JoinGroupResponse", 2)
    add("sync_group_request_v1",
        group.SyncGroupRequest_v1("grp", 3, "m-1", [("m-1", b"\x01\x02"), ("m-2", b"\x03")]),
        "SyncGroupRequest", 1)
    add("heartbeat_request_v1", group.HeartbeatRequest_v1("grp", 3, "m-1"), "HeartbeatRequest", 1)
    add("offset_commit_request_v2",
        commit.OffsetCommitRequest_v2("grp", 3, "m-1", -1, [("alpha", [(0, 42, "meta"), (1, 7, "")])]),
        "OffsetCommitRequest", 2)
    add("offset_fetch_response_v3",
        commit.OffsetFetchResponse_v3(0, [("alpha", [(0, 42, "", 0), (1, -1, "", 3)])], 0),
        "OffsetFetchResponse", 3)
    add("find_coordinator_request_v1",
        commit.GroupCoordinatorRequest_v1("grp", 0), "FindCoordinatorRequest", 1)
    add("find_coordinator_response_v0",
        commit.GroupCoordinatorResponse_v0(0, 1, "localhost", 9092), "FindCoordinatorResponse", 0)
    add("create_topics_request_v2",
        admin.CreateTopicsRequest_v2(
            [("alpha", 3, 1, [], [("cleanup.policy", "compact")]), ("beta", -1, -1, [(0, [1, 2])], [])],
            5000, True),
        "CreateTopicsRequest", 2)
    add("describe_configs_response_v1",
        admin.DescribeConfigsResponse_v1(
            0, [(0, None, 2, "alpha",
                 [("retention.ms", "604800000", False, True, False,
                   [("retention.ms", "604800000", 5)])])]),
        "DescribeConfigsResponse", 1)
    add("sasl_handshake_request_v1", admin.SaslHandShakeRequest_v1("PLAIN"), "SaslHandshakeRequest", 1)
    add("sasl_authenticate_request_v1",
        admin.SaslAuthenticateRequest_v1(b"\x00user\x00pass"), "SaslAuthenticateRequest", 1)
    return g


def encodable(t):
    """False for schemas using the String class itself (a kafka-python bug: it cannot encode)."""
    if t is String:
        return False
    if isinstance(t, Schema):
        return all(encodable(f) for f in t.fields)
    if isinstance(t, Array):
        return encodable(t.array_of)
    return True


class Filler:
    """Deterministic values for any kafka-python schema."""

    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        return self.n

    def value(self, t):
        if isinstance(t, Schema):
            return tuple(self.value(f) for f in t.fields)
        if isinstance(t, Array):
            if not encodable(t.array_of):
                return []  # kafka-python can only encode this array when it is empty
            return [self.value(t.array_of) for _ in range(2)]
        if isinstance(t, String):
            return "s%d" % self.next()
        if t is Bytes or isinstance(t, Bytes):
            n = self.next()
            return bytes((n + i) % 256 for i in range(n % 7))
        if t is Boolean or isinstance(t, Boolean):
            return self.next() % 2 == 0
        widths = {Int8: 7, Int16: 15, Int32: 31, Int64: 63}
        for cls, bits in widths.items():
            if t is cls or isinstance(t, cls):
                n = self.next()
                # Alternate small, negative and large values.
                return [n, -n, (1 << (bits - 1)) - n][n % 3]
        raise TypeError("unknown kafka-python type %r" % (t,))


def generated():
    out = []
    for mod in MODULES:
        for cls_name in sorted(dir(mod)):
            m = re.fullmatch(r"(\w+?)(Request|Response)_v(\d+)", cls_name)
            if not m:
                continue
            api, kind, version = m.group(1), m.group(2), int(m.group(3))
            if api in SKIPPED_APIS or cls_name in KNOWN_BAD:
                continue
            ident = "%s_%s_v%d_generated" % (snake(API_NAMES.get(api, api)), kind.lower(), version)
            cls = getattr(mod, cls_name)
            filler = Filler()
            obj = cls(*[filler.value(f) for f in cls.SCHEMA.fields])
            try:
                obj.encode()
            except TypeError as e:
                # A few kafka-python schemas use the String class instead of an instance
                # and cannot encode at all.
                print("skipping %s: kafka-python cannot encode it (%s)" % (cls_name, e))
                continue
            out.append((ident, obj, API_NAMES.get(api, api) + kind, version))
    return out


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s).lower()


def cpp_bytes(data):
    lines, row = [], []
    for i, b in enumerate(data):
        row.append("0x%02x" % b)
        if len(row) == 16:
            lines.append("    " + ", ".join(row) + ",")
            row = []
    if row:
        lines.append("    " + ", ".join(row) + ",")
    return "\n".join(lines)


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = argv[1] if len(argv) > 1 else os.path.join(root, "src/protocol/tests/golden_messages.h")
    hand = hand_written()
    goldens = hand + generated()
    out = ["// Generated by tools/golden_messages/make_golden.py with kafka-python %s. Do not edit."
           % kafka.__version__,
           "// Message bodies (no header) encoded by kafka-python's protocol classes.",
           "#pragma once", "", "#include \"bytes/bytes.h\"", "", "#include <cstdint>",
           "#include <string_view>", "", "namespace samsa::protocol::golden {", ""]
    for ident, obj, name, version in goldens:
        data = obj.encode()
        out.append("// %s" % type(obj).__name__)
        if data:
            out.append("inline constexpr uint8_t %s[] = {\n%s\n};" % (ident, cpp_bytes(data)))
        else:
            out.append("inline constexpr const uint8_t* %s = nullptr;" % ident)
        out.append("")
    out += ["struct golden_message {",
            "    std::string_view id;",
            "    /// Our message name (\"MetadataRequest\") and version.",
            "    std::string_view message;",
            "    int16_t version;",
            "    bytes_view data;",
            "};", "",
            "inline const golden_message all[] = {"]
    for ident, obj, name, version in goldens:
        size = len(obj.encode())
        out.append('    {"%s", "%s", %d, bytes_view(%s, %d)},' % (ident, name, version, ident, size))
    out += ["};", "", "} // namespace samsa::protocol::golden", ""]
    with open(path, "w") as fh:
        fh.write("\n".join(out))
    print("wrote %d goldens (%d hand-written) to %s" % (len(goldens), len(hand), path))


if __name__ == "__main__":
    main(sys.argv)
