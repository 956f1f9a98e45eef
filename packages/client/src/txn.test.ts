import { describe, expect, it } from "vitest";
import { toBytes } from "./bytes.js";
import { Cmp, Op, Txn } from "./txn.js";

describe("Txn builder", () => {
  it("builds compares, both branches and nested txns in order", () => {
    const inner = new Txn().if(Cmp.value("b", "==", "1")).onSuccess(Op.delete("b"));
    const txn = new Txn()
      .if(Cmp.version("a", ">", 0), Cmp.modRevision("p/", "<", 10n, { prefix: true }))
      .onSuccess(Op.put("a", "x"), Op.txn(inner))
      .onFailure(Op.get("a"));
    const request = txn.toRequest();
    expect(request.compare).toHaveLength(2);
    expect(request.compare?.[1]?.rangeEnd).toEqual(toBytes("p0"));
    expect(request.success?.map((op) => op.request?.case)).toEqual(["requestPut", "requestTxn"]);
    expect(request.failure?.map((op) => op.request?.case)).toEqual(["requestRange"]);
    expect(txn.writes).toBe(true);
    expect(new Txn().onSuccess(Op.get("a")).onFailure(Op.txn(new Txn().onSuccess(Op.get("b")))).writes).toBe(
      false,
    );
    expect(new Txn().onFailure(Op.txn(inner)).writes).toBe(true);
  });

  it("is not a thenable and refuses to commit without a client", () => {
    const txn = new Txn();
    expect("then" in txn).toBe(false);
    expect(() => txn.commit()).toThrow(/client\.txn\(\)/);
  });
});
