import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { expect, it } from "vitest";
import { RangeRequestSchema } from "./gen/etcdserverpb/rpc_pb.js";
import { etcdApiServices, rpcPaths } from "./index.js";

// The README example, with its printed values checked.
it("runs the README example", () => {
  const request = create(RangeRequestSchema, { key: new TextEncoder().encode("foo"), limit: 10n });
  const bytes = toBinary(RangeRequestSchema, request);
  expect(Buffer.from(bytes).toString("hex")).toBe("0a03666f6f180a");
  expect(fromBinary(RangeRequestSchema, bytes).limit).toBe(10n);
  expect(rpcPaths(etcdApiServices).length).toBe(50);
});
