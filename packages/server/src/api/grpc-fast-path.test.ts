import { describe, expect, it } from "vitest";
import { parseGrpcTimeout } from "./grpc-fast-path.js";

describe("parseGrpcTimeout", () => {
  it("reads every unit of the gRPC timeout header", () => {
    expect(parseGrpcTimeout("5S")).toBe(5000);
    expect(parseGrpcTimeout("100m")).toBe(100);
    expect(parseGrpcTimeout("2M")).toBe(120_000);
    expect(parseGrpcTimeout("1H")).toBe(3_600_000);
    expect(parseGrpcTimeout("4999864u")).toBeCloseTo(4999.864);
    expect(parseGrpcTimeout("1000000n")).toBeCloseTo(1);
  });

  it("ignores malformed values", () => {
    expect(parseGrpcTimeout(undefined)).toBeUndefined();
    expect(parseGrpcTimeout("5")).toBeUndefined();
    expect(parseGrpcTimeout("123456789S")).toBeUndefined(); // more than 8 digits
    expect(parseGrpcTimeout("5s")).toBeUndefined();
  });
});
