// A contender process for the multi-process lock and election tests (src/concurrency/contention.test.ts).
// It uses the built package (dist) through the package's self-reference, so run `pnpm build` first.
// Usage: node contender.mjs '<json>' with { endpoint, mode: "mutex" | "election", name, id, rounds, holdMs,
// ttlSeconds, holdForever }. Every step is printed as one JSON line on stdout.
import { Cmp, Election, EtcdClient, Mutex, Op, Session } from "@etcd-ts/client";

const args = JSON.parse(process.argv[2] ?? "{}");
const client = new EtcdClient({ endpoints: [args.endpoint], retry: { maxAttempts: 20, maxMs: 200 } });
const print = (record) => process.stdout.write(`${JSON.stringify({ id: args.id, ...record })}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The guard key proves exclusion as etcd itself orders things: a holder creates it only if nobody else holds
// it, and checks that its fencing token is above every token used before.
async function enter(token) {
  const result = await client
    .txn()
    .if(Cmp.version(`${args.name}-guard/holder`, "==", 0))
    // The guard dies with the holder's lease, like the lock itself.
    .onSuccess(
      Op.put(`${args.name}-guard/holder`, String(args.id), { lease: session.leaseId }),
      Op.get(`${args.name}-guard/fence`),
    )
    .onFailure(Op.get(`${args.name}-guard/holder`))
    .commit();
  if (!result.succeeded) {
    const other = result.results[0];
    print({
      event: "violation",
      token: String(token),
      other: other?.kind === "get" ? other.result.kvs[0]?.valueString : "?",
    });
    return;
  }
  const fence = result.results[1];
  const last = fence?.kind === "get" && fence.result.kvs[0] ? BigInt(fence.result.kvs[0].valueString) : 0n;
  if (last >= token) print({ event: "stale-token", token: String(token), last: String(last) });
  await client.put(`${args.name}-guard/fence`, String(token));
}

async function leave() {
  await client.delete(`${args.name}-guard/holder`);
}

const session = await Session.create(client, { ttlSeconds: args.ttlSeconds ?? 10 });
const handle = args.mode === "election" ? new Election(session, args.name) : new Mutex(session, args.name);
for (let round = 0; round < (args.rounds ?? 1); round++) {
  const token =
    args.mode === "election" ? (await handle.campaign(String(args.id))).revision : await handle.lock();
  print({ event: "acquired", token: String(token), round });
  await enter(token);
  if (args.holdForever) {
    print({ event: "holding", token: String(token) });
    // Paused or killed here by the test. If resumed after losing the lease, a write fenced by ownership fails.
    await sleep(args.holdMs ?? 60_000);
    const fenced = await client
      .txn()
      .if(Cmp.createRevision(handle.key, "==", token))
      .onSuccess(Op.put(`${args.name}-guard/late-write`, String(args.id)))
      .commit();
    print({ event: "fenced-write", succeeded: fenced.succeeded });
    break;
  }
  await sleep(args.holdMs ?? 20);
  await leave();
  if (args.mode === "election") await handle.resign();
  else await handle.unlock();
  print({ event: "released", token: String(token), round });
}
await session.close();
client.close();
print({ event: "done" });
