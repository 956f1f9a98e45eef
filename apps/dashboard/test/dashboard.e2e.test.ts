import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, type Member, startCluster, startMember } from "./member.js";
import { startStaticServer } from "./static-server.js";

// Drives Debian's Chromium against a real etcd-ts member. The page is loaded from the member's own /ui/
// when etcd-ts serves the bundle; otherwise from a small static server that proxies the API to the member.

const here = path.dirname(fileURLToPath(import.meta.url));
const distDir = path.resolve(here, "../dist");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const screenshotDir = path.join(os.tmpdir(), "etcd-ts-dashboard-screenshots");
const memberName = "dash-e2e";

let member: Member | undefined;
let staticServer: { url: string; close(): Promise<void> } | undefined;
let browser: Browser | undefined;
let page: Page;
let base = "";
const pageErrors: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
}

beforeAll(async () => {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(
      `Chromium not found at ${chromiumPath}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  if (!fs.existsSync(path.join(distDir, "index.html"))) {
    throw new Error(`${distDir}/index.html is missing: run pnpm --filter @etcd-ts/dashboard build first`);
  }
  fs.mkdirSync(screenshotDir, { recursive: true });
  member = await startMember(memberName);
  await etcdctl(member.url, ["put", "/dashboard/greeting", "hello from etcdctl"]);
  const served = await fetch(`${member.url}/ui/`).then(
    (r) => r.status === 200,
    () => false,
  );
  if (served) {
    base = member.url;
  } else {
    staticServer = await startStaticServer(distDir, member.url);
    base = staticServer.url;
  }
  console.log(
    `dashboard under test: ${base}/ui/ (${served ? "served by etcd-ts" : "static server + proxy"})`,
  );
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await staticServer?.close();
  await member?.stop();
  console.log(`dashboard screenshots: ${screenshotDir}`);
});

describe("dashboard against a real etcd-ts member", () => {
  it("the cluster view shows the member, as leader, with its raft status", async () => {
    await page.goto(`${base}/ui/#/cluster`);
    const row = page.locator(`tr[data-member-name="${memberName}"]`);
    await row.waitFor();
    expect(await row.getAttribute("data-role")).toBe("leader");
    const cells = await row.locator("td").allTextContents();
    expect(cells[0]).toBe(memberName);
    expect(Number(cells[3])).toBeGreaterThanOrEqual(1); // term
    expect(Number(cells[4])).toBeGreaterThanOrEqual(2); // raft index: at least the etcdctl put
    expect(cells[8]).toBe("none"); // alarms
    await shot("cluster.png");
    expect(pageErrors).toEqual([]);
  });

  it("the key browser shows the key written with etcdctl, its history, and live changes", async () => {
    await page.goto(`${base}/ui/#/keys?prefix=/dashboard/`);
    const item = page.locator('li[data-key="/dashboard/greeting"] button');
    await item.waitFor();
    await item.click();
    const value = page.getByTestId("key-value");
    await expect.poll(() => value.textContent()).toBe("hello from etcdctl");
    await page.locator(".live.on").waitFor();

    // A write from outside arrives through the watch: the feed shows it and the open key refreshes.
    await etcdctl(member!.url, ["put", "/dashboard/greeting", "hello again"]);
    await expect.poll(() => value.textContent()).toBe("hello again");
    await expect.poll(() => page.getByTestId("watch-feed").textContent()).toContain("/dashboard/greeting");
    await expect.poll(() => page.getByTestId("key-history").locator("tbody tr").count()).toBe(2);

    // A put from the page asks for confirmation first.
    await page.getByTestId("put-key").fill("/dashboard/from-ui");
    await page.getByTestId("put-value").fill("written in the browser");
    await page.getByTestId("put-submit").click();
    await page.getByTestId("confirm-ok").click();
    await expect.poll(() => value.textContent()).toBe("written in the browser");
    expect(await etcdctl(member!.url, ["get", "/dashboard/from-ui", "--print-value-only"])).toBe(
      "written in the browser\n",
    );
    await page.locator('li[data-key="/dashboard/from-ui"]').waitFor();

    // A key with a lease shows the lease, its TTL and its keys; the lease list shows it too.
    const grant = await etcdctl(member!.url, ["lease", "grant", "600"]);
    const leaseHex = /lease ([0-9a-f]+) granted/.exec(grant)?.[1];
    expect(leaseHex, grant).toBeDefined();
    await etcdctl(member!.url, ["put", "/dashboard/session", "leased value", `--lease=${leaseHex}`]);
    await page.locator('li[data-key="/dashboard/session"] button').click();
    await expect
      .poll(() => page.getByTestId("lease-info").textContent())
      .toMatch(
        new RegExp(`Lease ${leaseHex}: \\d+ s left of 600 s, attached to 1 key\\(s\\): /dashboard/session`),
      );
    await page
      .locator(`[data-testid="lease-list"] tr[data-lease-id="${leaseHex}"]`)
      .getByText("/dashboard/session")
      .waitFor();
    await shot("keys.png");
    expect(pageErrors).toEqual([]);
  });

  it("in the playground, crashing the leader leads to a new leader with a higher term", async () => {
    await page.goto(`${base}/ui/#/playground?seed=3&nodes=5&speed=5`);
    const leader = page.getByTestId("pg-leader");
    await expect.poll(() => leader.getAttribute("data-leader"), { timeout: 20_000 }).toMatch(/^[1-5]$/);
    const oldLeader = (await leader.getAttribute("data-leader"))!;
    const oldTerm = Number(await leader.getAttribute("data-term"));
    await page.getByTestId(`crash-${oldLeader}`).click();
    await expect
      .poll(() => page.locator(`.node-card[data-node-id="${oldLeader}"]`).getAttribute("data-role"))
      .toBe("down");
    await expect
      .poll(
        async () => {
          const id = await leader.getAttribute("data-leader");
          const term = Number(await leader.getAttribute("data-term"));
          return id !== "" && id !== oldLeader && term > oldTerm;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    const newLeader = await leader.getAttribute("data-leader");
    const newCard = page.locator(`.node-card[data-node-id="${newLeader}"]`);
    expect(await newCard.getAttribute("data-role")).toBe("leader");
    expect(Number(await newCard.getAttribute("data-term"))).toBeGreaterThan(oldTerm);
    // Send a few requests so the screenshot shows replicated, committed entries.
    await page.getByTestId("client-request").click();
    await page.getByTestId("client-request").click();
    await expect.poll(() => newCard.getAttribute("data-commit").then(Number)).toBeGreaterThanOrEqual(3);
    await page.getByTestId("pause").click();
    await shot("playground.png");
    expect(pageErrors).toEqual([]);
  });

  it("with auth enabled, the key browser needs a sign-in and then reads and writes as that user", async () => {
    await etcdctl(member!.url, ["user", "add", "root", "--new-user-password=dashboard-pw"]);
    await etcdctl(member!.url, ["auth", "enable"]);
    await page.goto(`${base}/ui/#/keys?prefix=/dashboard/`);
    await expect
      .poll(() => page.locator(".status-line.error").textContent())
      .toMatch(/user name|permission|auth/i);
    await page.getByRole("button", { name: "Sign in (auth)" }).click();
    await page.locator('.sign-in input[name="user"]').fill("root");
    await page.locator('.sign-in input[name="password"]').fill("dashboard-pw");
    await page.locator('.sign-in button[type="submit"]').click();
    await page.locator(".sign-in").getByText("signed in as root").waitFor();
    await page.locator('li[data-key="/dashboard/greeting"] button').click();
    await expect.poll(() => page.getByTestId("key-value").textContent()).toBe("hello again");
    await page.getByTestId("delete-key").click();
    await page.getByTestId("confirm-ok").click();
    await expect.poll(() => page.locator('li[data-key="/dashboard/greeting"]').count()).toBe(0);
    const left = await etcdctl(member!.url, [
      "--user=root:dashboard-pw",
      "get",
      "/dashboard/",
      "--prefix",
      "--keys-only",
    ]);
    expect(
      left
        .trim()
        .split("\n")
        .filter((l) => l !== ""),
    ).toEqual(["/dashboard/from-ui", "/dashboard/session"]);
    await shot("keys-auth.png");
    expect(pageErrors).toEqual([]);
  });
});

describe("dashboard against a real 3-member etcd-ts cluster", () => {
  let cluster: Member[] = [];
  let server: { url: string; close(): Promise<void> } | undefined;

  afterAll(async () => {
    await server?.close();
    await Promise.all(cluster.map((m) => m.stop()));
  });

  it("lists every member with its own status and highlights the leader", async () => {
    cluster = await startCluster(["m1", "m2", "m3"]);
    const serving = cluster[0]!;
    const served = await fetch(`${serving.url}/ui/`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (!served) server = await startStaticServer(distDir, serving.url);
    const origin = served ? serving.url : server!.url;
    const leaderHex = async () => {
      const res = await fetch(`${serving.url}/v3/maintenance/status`, { method: "POST", body: "{}" });
      return BigInt(((await res.json()) as { leader: string }).leader).toString(16);
    };

    await page.goto(`${origin}/ui/#/cluster`);
    await expect.poll(() => page.locator("tr[data-member-name]").count()).toBe(3);
    const names = await page
      .locator("tr[data-member-name]")
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.memberName));
    expect(names).toEqual(["m1", "m2", "m3"]);
    // Exactly one row is the leader, the one the serving member names (polled: under load an election
    // right after startup may move leadership between two refreshes).
    const leaderRows = page.locator('tr[data-role="leader"]');
    await expect
      .poll(
        async () => {
          const ids = await leaderRows.evaluateAll((rows) =>
            rows.map((r) => (r as HTMLElement).dataset.memberId),
          );
          return ids.length === 1 && ids[0] === (await leaderHex());
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    expect(await leaderRows.getAttribute("class")).toContain("leader");
    // Every member answers: the serving one itself, the others on their own client URLs (etcd-ts allows
    // every origin by default, --cors), so each row has its term, index and db size.
    for (const name of ["m1", "m2", "m3"]) {
      const row = page.locator(`tr[data-member-name="${name}"]`);
      await expect
        .poll(() => row.locator("td").nth(3).textContent(), { timeout: 20_000 })
        .toMatch(/^[1-9]\d*$/);
      expect(await row.getAttribute("class")).not.toContain("unreachable");
    }
    expect(await page.locator("p.note").count()).toBe(0);
    await shot("cluster-3-members.png");
    expect(pageErrors).toEqual([]);
  });
});

describe("etcd-ts serving the dashboard", () => {
  let uiOff: Member | undefined;

  afterAll(async () => {
    await uiOff?.stop();
  });

  it("serves the bundle at /ui/ on the client port, and --ui=false turns it off", async () => {
    const on = await fetch(`${member!.url}/ui/`);
    expect(on.status).toBe(200);
    const html = await on.text();
    expect(html).toContain(fs.readFileSync(path.join(distDir, "index.html"), "utf8").trim());
    uiOff = await startMember("dash-no-ui", ["--ui=false"]);
    const off = await fetch(`${uiOff.url}/ui/`);
    await off.body?.cancel();
    expect(off.status).toBe(404);
    // The API keeps working on that member.
    expect(await etcdctl(uiOff.url, ["put", "k", "v"])).toContain("OK");
  });
});
