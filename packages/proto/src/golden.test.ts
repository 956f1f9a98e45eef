import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  PutResponseSchema,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  RangeRequestSchema,
  TxnRequestSchema,
  WatchResponseSchema,
} from "./gen/etcdserverpb/rpc_pb.js";
import { Event_EventType } from "./gen/mvccpb/kv_pb.js";

// Golden wire bytes, derived by hand from the protobuf encoding rules (tag = field_number << 3 | wire_type;
// wire type 0 = varint, 2 = length-delimited) and etcd's field numbers. They do not come from this
// library, so a wrong field number, type or enum value in our .proto files makes these tests fail.
function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("golden wire bytes", () => {
  it("RangeRequest with every field set", () => {
    const golden = hex(
      `
      0a 01 61                          # 1 key = "a"
      12 01 62                          # 2 range_end = "b"
      18 0a                             # 3 limit = 10
      20 05                             # 4 revision = 5
      28 02                             # 5 sort_order = DESCEND (2)
      30 03                             # 6 sort_target = MOD (3)
      38 01                             # 7 serializable
      40 01                             # 8 keys_only
      48 01                             # 9 count_only
      50 01                             # 10 min_mod_revision = 1
      58 ac 02                          # 11 max_mod_revision = 300
      60 02                             # 12 min_create_revision = 2
      68 ff ff ff ff ff ff ff ff ff 01  # 13 max_create_revision = -1 (int64: ten-byte varint)
    `.replace(/#[^\n]*/g, ""),
    );
    const message = create(RangeRequestSchema, {
      key: utf8("a"),
      rangeEnd: utf8("b"),
      limit: 10n,
      revision: 5n,
      sortOrder: RangeRequest_SortOrder.DESCEND,
      sortTarget: RangeRequest_SortTarget.MOD,
      serializable: true,
      keysOnly: true,
      countOnly: true,
      minModRevision: 1n,
      maxModRevision: 300n,
      minCreateRevision: 2n,
      maxCreateRevision: -1n,
    });
    expect(Buffer.from(toBinary(RangeRequestSchema, message)).toString("hex")).toBe(
      Buffer.from(golden).toString("hex"),
    );
    const decoded = fromBinary(RangeRequestSchema, golden);
    expect(decoded.maxCreateRevision).toBe(-1n);
    expect(decoded.sortTarget).toBe(RangeRequest_SortTarget.MOD);
  });

  it("PutResponse with a prev_kv", () => {
    const golden = hex(
      `
      0a 09                 # 1 header, 9 bytes
        08 b4 24            #   cluster_id = 4660
        10 01               #   member_id = 1
        18 07               #   revision = 7
        20 02               #   raft_term = 2
      12 12                 # 2 prev_kv, 18 bytes
        0a 03 66 6f 6f      #   key = "foo"
        10 02               #   create_revision = 2
        18 06               #   mod_revision = 6
        20 03               #   version = 3
        2a 03 62 61 72      #   value = "bar"
        30 64               #   lease = 100
    `.replace(/#[^\n]*/g, ""),
    );
    const message = create(PutResponseSchema, {
      header: { clusterId: 4660n, memberId: 1n, revision: 7n, raftTerm: 2n },
      prevKv: {
        key: utf8("foo"),
        createRevision: 2n,
        modRevision: 6n,
        version: 3n,
        value: utf8("bar"),
        lease: 100n,
      },
    });
    expect(Buffer.from(toBinary(PutResponseSchema, message)).toString("hex")).toBe(
      Buffer.from(golden).toString("hex"),
    );
    expect(new TextDecoder().decode(fromBinary(PutResponseSchema, golden).prevKv?.value)).toBe("bar");
  });

  it("WatchResponse with a PUT and a DELETE event", () => {
    const golden = hex(
      `
      0a 02 18 05           # 1 header { revision = 5 }
      10 03                 # 2 watch_id = 3
      5a 0e                 # 11 events[0], 14 bytes (type PUT = 0 is not written)
        12 0c               #   kv, 12 bytes
          0a 01 6b          #     key = "k"
          10 05             #     create_revision = 5
          18 05             #     mod_revision = 5
          20 01             #     version = 1
          2a 01 76          #     value = "v"
      5a 17                 # 11 events[1], 23 bytes
        08 01               #   type = DELETE
        12 05               #   kv, 5 bytes
          0a 01 6b          #     key = "k"
          18 06             #     mod_revision = 6
        1a 0c               #   prev_kv, 12 bytes
          0a 01 6b 10 05 18 05 20 01 2a 01 76
    `.replace(/#[^\n]*/g, ""),
    );
    const kv = { key: utf8("k"), createRevision: 5n, modRevision: 5n, version: 1n, value: utf8("v") };
    const message = create(WatchResponseSchema, {
      header: { revision: 5n },
      watchId: 3n,
      events: [
        { type: Event_EventType.PUT, kv },
        { type: Event_EventType.DELETE, kv: { key: utf8("k"), modRevision: 6n }, prevKv: kv },
      ],
    });
    expect(Buffer.from(toBinary(WatchResponseSchema, message)).toString("hex")).toBe(
      Buffer.from(golden).toString("hex"),
    );
    expect(fromBinary(WatchResponseSchema, golden).events.map((e) => e.type)).toEqual([
      Event_EventType.PUT,
      Event_EventType.DELETE,
    ]);
  });

  it("TxnRequest with a compare and nested ops", () => {
    const golden = hex(
      `
      0a 08                 # 1 compare[0], 8 bytes (result EQUAL = 0 is not written)
        10 03               #   target = VALUE (3)
        1a 01 61            #   key = "a"
        3a 01 31            #   value = "1" (oneof target_union, field 7)
      12 08                 # 2 success[0], 8 bytes
        12 06               #   request_put, 6 bytes
          0a 01 61          #     key = "a"
          12 01 32          #     value = "2"
      12 09                 # 2 success[1], 9 bytes
        22 07               #   request_txn, 7 bytes
          12 05             #     success[0], 5 bytes
            0a 03           #       request_range, 3 bytes
              0a 01 62      #         key = "b"
      1a 07                 # 3 failure[0], 7 bytes
        1a 05               #   request_delete_range, 5 bytes
          0a 01 61          #     key = "a"
          18 01             #     prev_kv = true
    `.replace(/#[^\n]*/g, ""),
    );
    const message = create(TxnRequestSchema, {
      compare: [
        {
          result: Compare_CompareResult.EQUAL,
          target: Compare_CompareTarget.VALUE,
          key: utf8("a"),
          targetUnion: { case: "value", value: utf8("1") },
        },
      ],
      success: [
        { request: { case: "requestPut", value: { key: utf8("a"), value: utf8("2") } } },
        {
          request: {
            case: "requestTxn",
            value: { success: [{ request: { case: "requestRange", value: { key: utf8("b") } } }] },
          },
        },
      ],
      failure: [{ request: { case: "requestDeleteRange", value: { key: utf8("a"), prevKv: true } } }],
    });
    expect(Buffer.from(toBinary(TxnRequestSchema, message)).toString("hex")).toBe(
      Buffer.from(golden).toString("hex"),
    );
    const decoded = fromBinary(TxnRequestSchema, golden);
    const nested = decoded.success[1]?.request;
    expect(nested?.case).toBe("requestTxn");
  });
});
