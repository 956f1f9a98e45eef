import { randomBytes } from "node:crypto";
import { afterEach, expect, test } from "vitest";
import { databaseSizeBytes, databaseSizeInUseBytes, defragment } from "./level-maintenance.js";
import { StoreHarness } from "./testing/store-harness.js";

const harnesses: StoreHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.destroy();
});

test("size accounting and defragmentation return space freed by compaction", async () => {
  const h = await StoreHarness.create();
  harnesses.push(h);
  // Incompressible values, so that LevelDB's block compression does not hide the history.
  const big = randomBytes(3072).toString("base64");
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 100; i++) await h.put(`k${i}`, `${big}${round}`);
  }
  await defragment(h.level.db);
  const before = databaseSizeBytes(h.level.dir);
  expect(before).toBeGreaterThan(3 * 100 * 4096);
  expect(await databaseSizeInUseBytes(h.level.db)).toBeGreaterThan(0);
  await h.compact(h.store.currentRevision);
  await defragment(h.level.db);
  const after = databaseSizeBytes(h.level.dir);
  expect(after).toBeLessThan(before);
  expect(await h.get("k5")).toBe(`${big}3`);
});
