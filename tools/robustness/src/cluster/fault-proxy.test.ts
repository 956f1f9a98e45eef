import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Random } from "../random.js";
import { sleep } from "../sleep.js";
import { FaultProxy } from "./fault-proxy.js";

let echo: net.Server;
let echoPort = 0;
beforeAll(async () => {
  echo = net.createServer((socket) => {
    // The proxy cuts links (drop, heal, close): the echo side then sees a reset, which is expected here.
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", () => resolve()));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** exchange sends `text` through the proxy and collects what comes back within `waitMs`. */
async function exchange(
  proxy: FaultProxy,
  text: string,
  waitMs: number,
): Promise<{ got: string; closed: boolean }> {
  const socket = net.connect(proxy.port, "127.0.0.1");
  let got = "";
  let closed = false;
  socket.on("data", (d) => {
    got += d.toString();
  });
  socket.on("close", () => {
    closed = true;
  });
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(text);
  await sleep(waitMs);
  socket.destroy();
  return { got, closed };
}

describe("FaultProxy", () => {
  it("forwards, blackholes (and cuts the broken links on heal), and passes again after the heal", async () => {
    const proxy = await FaultProxy.start(echoPort, new Random(1), () => new Map());
    expect((await exchange(proxy, "hello", 100)).got).toBe("hello");
    proxy.inject({ kind: "blackhole" });
    expect((await exchange(proxy, "lost", 150)).got).toBe("");
    proxy.heal();
    expect((await exchange(proxy, "again", 100)).got).toBe("again");
    await proxy.close();
  });

  it("delays in order, and a one-way cut loses only what goes towards the member", async () => {
    const proxy = await FaultProxy.start(echoPort, new Random(2), () => new Map());
    proxy.inject({ kind: "delay", meanMs: 60, jitterMs: 50 });
    const socket = net.connect(proxy.port, "127.0.0.1");
    let got = "";
    socket.on("data", (d) => {
      got += d.toString();
    });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const expected = Array.from({ length: 20 }, (_, i) => `${i},`).join("");
    for (let i = 0; i < 20; i++) socket.write(`${i},`);
    for (let waited = 0; got.length < expected.length && waited < 5000; waited += 20) await sleep(20);
    expect(got).toBe(expected); // every chunk delayed on its own, none overtakes another
    socket.destroy();
    proxy.inject({ kind: "inbound" });
    expect((await exchange(proxy, "towards", 150)).got).toBe("");
    proxy.heal();
    await proxy.close();
  });

  it("only blackholes links opened by the named members", async () => {
    const proxy = await FaultProxy.start(
      echoPort,
      new Random(3),
      (ports) => new Map(ports.map((p) => [p, "m1"])),
    );
    proxy.inject({ kind: "blackhole", from: new Set(["m2"]) });
    expect((await exchange(proxy, "m1 passes", 100)).got).toBe("m1 passes");
    proxy.inject({ kind: "blackhole", from: new Set(["m1"]) });
    expect((await exchange(proxy, "m1 cut", 150)).got).toBe("");
    await proxy.close();
  });

  it("drops about half of the new connections", async () => {
    const proxy = await FaultProxy.start(echoPort, new Random(4), () => new Map());
    proxy.inject({ kind: "drop", rate: 0.5 });
    let refused = 0;
    for (let i = 0; i < 30; i++) if ((await exchange(proxy, "x", 20)).got === "") refused++;
    expect(refused).toBeGreaterThan(5);
    expect(refused).toBeLessThan(25);
    await proxy.close();
  });
});
