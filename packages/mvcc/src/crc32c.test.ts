import { expect, test } from "vitest";
import { crc32cUpdate } from "./crc32c.js";

test("CRC-32C check value and incremental updates", () => {
  const bytes = new TextEncoder().encode("123456789");
  expect(crc32cUpdate(0, bytes)).toBe(0xe3069283);
  expect(crc32cUpdate(crc32cUpdate(0, bytes.subarray(0, 4)), bytes.subarray(4))).toBe(0xe3069283);
  expect(crc32cUpdate(0, new Uint8Array(0))).toBe(0);
});
