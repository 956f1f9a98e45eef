import { create } from "@bufbuild/protobuf";
import { RangeResponseSchema, TxnResponseSchema } from "@etcd-ts/proto/etcdserverpb";
import { describe, expect, it } from "vitest";
import { formatGoDuration, formatGoDurationNs, parseGoDuration } from "./go-duration.js";
import { goJson, goJsonString } from "./go-json.js";
import { goQuote, humanBytes, renderTable } from "./output.js";
import { tabAlign } from "./tab-writer.js";

describe("Go formats", () => {
  it("goJson leaves out zero values and prints int64 bare and bytes as base64", () => {
    const r = create(RangeResponseSchema, {
      header: { clusterId: 18446744073709551615n, memberId: 2n, revision: 20n, raftTerm: 2n },
      kvs: [
        {
          key: new TextEncoder().encode("k/a"),
          createRevision: 7n,
          modRevision: 13n,
          version: 2n,
          value: new TextEncoder().encode("zz2"),
        },
      ],
      count: 4n,
      more: true,
    });
    expect(goJson(RangeResponseSchema, r as never)).toBe(
      '{"header":{"cluster_id":18446744073709551615,"member_id":2,"revision":20,"raft_term":2},"kvs":[{"key":"ay9h","create_revision":7,"mod_revision":13,"version":2,"value":"enoy"}],"more":true,"count":4}',
    );
  });

  it("goJson renders a oneof as Go's wrapper struct", () => {
    const r = create(TxnResponseSchema, {
      succeeded: true,
      responses: [{ response: { case: "responsePut", value: { header: { revision: 42n } } } }],
    });
    expect(goJson(TxnResponseSchema, r as never)).toBe(
      '{"succeeded":true,"responses":[{"Response":{"ResponsePut":{"header":{"revision":42}}}}]}',
    );
  });

  it("goJsonString escapes like encoding/json", () => {
    expect(goJsonString('a"b\\<&>\n\u2028')).toBe('"a\\"b\\\\\\u003c\\u0026\\u003e\\n\\u2028"');
  });

  it("goQuote quotes like %q", () => {
    expect(goQuote("ключ")).toBe('"ключ"');
    expect(goQuote(new Uint8Array([0x66, 0xff, 0x0a]))).toBe('"f\\xff\\n"');
  });

  it("durations round-trip Go's syntax", () => {
    expect(parseGoDuration("2s")).toBe(2000);
    expect(parseGoDuration("1m30.5s")).toBe(90_500);
    expect(parseGoDuration("x")).toBeUndefined();
    expect(formatGoDuration(5000)).toBe("5s");
    expect(formatGoDuration(60_000)).toBe("1m0s");
    expect(formatGoDurationNs(1_156_206)).toBe("1.156206ms");
    expect(formatGoDurationNs(950)).toBe("950ns");
  });

  it("humanBytes is go-humanize's SI Bytes", () => {
    expect(humanBytes(5)).toBe("5 B");
    expect(humanBytes(20480)).toBe("20 kB");
    expect(humanBytes(1_234_567)).toBe("1.2 MB");
  });

  it("tabAlign pads cells with tabs to the column's tab stop", () => {
    expect(tabAlign("\tdisarm\tDisarms all alarms\n\tlist\tLists all alarms")).toBe(
      "\tdisarm\tDisarms all alarms\n\tlist\tLists all alarms",
    );
    expect(tabAlign('      --consistency="l"\tx\n      --print-value-only[=false]\ty')).toBe(
      '      --consistency="l"\t\t\tx\n      --print-value-only[=false]\ty',
    );
  });
});

describe("renderTable", () => {
  it("centres the header and right-aligns the rows, as etcdctl 3.4's tables do", () => {
    // Debian etcdctl 3.4.23, `member list -w table` against a one-member etcd.
    expect(
      renderTable(
        ["ID", "STATUS", "NAME", "IS LEARNER"],
        [["bdae9bbc11dd390d", "started", "default", "false"]],
      ),
    ).toBe(
      [
        "+------------------+---------+---------+------------+",
        "|        ID        | STATUS  |  NAME   | IS LEARNER |",
        "+------------------+---------+---------+------------+",
        "| bdae9bbc11dd390d | started | default |      false |",
        "+------------------+---------+---------+------------+",
        "",
      ].join("\n"),
    );
  });
});
