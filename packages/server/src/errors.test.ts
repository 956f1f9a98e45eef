import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { EtcdError, errorCode, toConnectError } from "./errors.js";

describe("the error table", () => {
  it("gives etcd's gRPC code for etcd's messages, with or without the etcdserver prefix", () => {
    expect(errorCode("etcdserver: mvcc: required revision has been compacted")).toBe(Code.OutOfRange);
    expect(errorCode("mvcc: required revision is a future revision")).toBe(Code.OutOfRange);
    expect(errorCode("etcdserver: requested lease not found")).toBe(Code.NotFound);
    expect(errorCode("etcdserver: permission denied")).toBe(Code.PermissionDenied);
    expect(errorCode("etcdserver: invalid auth token")).toBe(Code.Unauthenticated);
    expect(errorCode("etcdserver: no leader")).toBe(Code.Unavailable);
    expect(errorCode("etcdserver: too many requests")).toBe(Code.ResourceExhausted);
    expect(errorCode("something else")).toBeUndefined();
  });

  it("maps errors thrown by the packages below to the client's view", () => {
    const compacted = toConnectError(new Error("mvcc: required revision has been compacted"));
    expect(compacted.code).toBe(Code.OutOfRange);
    expect(compacted.rawMessage).toBe("etcdserver: mvcc: required revision has been compacted");

    const own = toConnectError(new EtcdError("etcdserver: lease already exists"));
    expect(own.code).toBe(Code.FailedPrecondition);

    const passthrough = new ConnectError("x", Code.Aborted);
    expect(toConnectError(passthrough)).toBe(passthrough);

    const unknown = toConnectError(new Error("disk on fire"));
    expect(unknown.code).toBe(Code.Internal);
  });

  it("keeps a message with an explicit code as given", () => {
    const err = new EtcdError("election: not leader", Code.FailedPrecondition);
    expect(err.message).toBe("election: not leader");
    expect(toConnectError(err).code).toBe(Code.FailedPrecondition);
  });
});
