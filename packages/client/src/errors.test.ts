import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  CanceledError,
  CompactedError,
  DeadlineExceededError,
  EndpointUnavailableError,
  EtcdError,
  InvalidAuthTokenError,
  LeaseNotFoundError,
  NoLeaderError,
  PermissionDeniedError,
  toEtcdError,
  UnavailableError,
} from "./errors.js";

describe("toEtcdError", () => {
  it("picks the class by etcd's exact message and keeps the message and code", () => {
    const cases: [string, Code, new (...args: never[]) => EtcdError][] = [
      ["etcdserver: mvcc: required revision has been compacted", Code.OutOfRange, CompactedError],
      ["etcdserver: requested lease not found", Code.NotFound, LeaseNotFoundError],
      ["etcdserver: permission denied", Code.PermissionDenied, PermissionDeniedError],
      ["etcdserver: invalid auth token", Code.Unauthenticated, InvalidAuthTokenError],
      ["etcdserver: no leader", Code.Unavailable, NoLeaderError],
    ];
    for (const [message, code, cls] of cases) {
      const err = toEtcdError(new ConnectError(message, code));
      expect(err).toBeInstanceOf(cls);
      expect(err.message).toBe(message);
      expect(err.code).toBe(code);
    }
    expect(toEtcdError(new ConnectError("etcdserver: no leader", Code.Unavailable))).toBeInstanceOf(
      UnavailableError,
    );
  });

  it("falls back to the code for unknown messages", () => {
    expect(toEtcdError(new ConnectError("boom", Code.Unavailable))).toBeInstanceOf(UnavailableError);
    expect(toEtcdError(new ConnectError("late", Code.DeadlineExceeded))).toBeInstanceOf(
      DeadlineExceededError,
    );
    expect(toEtcdError(new ConnectError("stop", Code.Canceled))).toBeInstanceOf(CanceledError);
    const other = toEtcdError(new ConnectError("odd", Code.Internal));
    expect(other.constructor).toBe(EtcdError);
    expect(other.code).toBe(Code.Internal);
  });

  it("marks connection failures as never sent", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const err = toEtcdError(
      new ConnectError("connect ECONNREFUSED", Code.Unavailable, undefined, undefined, refused),
    );
    expect(err).toBeInstanceOf(EndpointUnavailableError);
  });

  it("reports a connection reset as Unavailable (not as never sent)", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const err = toEtcdError(new ConnectError("read ECONNRESET", Code.Aborted, undefined, undefined, reset));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).not.toBeInstanceOf(EndpointUnavailableError);
  });
});
