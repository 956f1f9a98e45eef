import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBadClientCerts, makeCerts } from "./certs.js";
import { etcdctl, httpsStatus, type Member, startMember, tempDir } from "./harness.js";

describe("TLS on the client port", () => {
  let certs: ReturnType<typeof makeCerts>;
  let member: Member;

  beforeAll(async () => {
    certs = makeCerts(tempDir("certs"));
    member = await startMember({
      dataDir: tempDir("tls"),
      args: [
        "--cert-file",
        path.join(certs.dir, "server.pem"),
        "--key-file",
        path.join(certs.dir, "server.key"),
        "--trusted-ca-file",
        path.join(certs.dir, "ca.pem"),
        "--client-cert-auth",
      ],
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
    });
  }, 60_000);

  afterAll(async () => {
    await member?.stop();
  });

  it("serves gRPC over TLS to etcdctl with a client certificate", async () => {
    const tlsArgs = [
      `--cacert=${path.join(certs.dir, "ca.pem")}`,
      `--cert=${path.join(certs.dir, "client.pem")}`,
      `--key=${path.join(certs.dir, "client.key")}`,
    ];
    const endpoint = `https://${member.endpoint}`;
    expect(await etcdctl(endpoint, [...tlsArgs, "put", "secure", "yes"])).toMatchObject({
      code: 0,
      stdout: "OK\n",
    });
    expect((await etcdctl(endpoint, [...tlsArgs, "get", "secure", "--print-value-only"])).stdout).toBe(
      "yes\n",
    );
  });

  it("refuses a client without a certificate", async () => {
    const endpoint = `https://${member.endpoint}`;
    const res = await etcdctl(endpoint, [
      `--cacert=${path.join(certs.dir, "ca.pem")}`,
      "--command-timeout=2s",
      "get",
      "secure",
    ]);
    expect(res.code).not.toBe(0);
    await expect(httpsStatus(`${endpoint}/health`, { ca: certs.ca })).rejects.toThrow();
  });

  it("refuses an expired client certificate and one from another CA", async () => {
    makeBadClientCerts(certs.dir);
    const endpoint = `https://${member.endpoint}`;
    for (const name of ["expired", "foreign"]) {
      const res = await etcdctl(endpoint, [
        `--cacert=${path.join(certs.dir, "ca.pem")}`,
        `--cert=${path.join(certs.dir, `${name}.pem`)}`,
        `--key=${path.join(certs.dir, `${name}.key`)}`,
        "--dial-timeout=2s",
        "--command-timeout=2s",
        "get",
        "secure",
      ]);
      expect(res.code, name).not.toBe(0);
    }
  });

  it("fails a plain-text client on the TLS port cleanly and keeps serving", async () => {
    const plain = await etcdctl(`http://${member.endpoint}`, [
      "--dial-timeout=2s",
      "--command-timeout=2s",
      "get",
      "secure",
    ]);
    expect(plain.code).not.toBe(0);
    const status = await httpsStatus(`https://${member.endpoint}/health`, {
      ca: certs.ca,
      cert: certs.clientCert,
      key: certs.clientKey,
    });
    expect(status).toBe(200);
  });

  it("with auth on, takes the client certificate's CN as the user", async () => {
    const endpoint = `https://${member.endpoint}`;
    const tlsArgs = [
      `--cacert=${path.join(certs.dir, "ca.pem")}`,
      `--cert=${path.join(certs.dir, "client.pem")}`,
      `--key=${path.join(certs.dir, "client.key")}`,
    ];
    const ctl = (...args: string[]) => etcdctl(endpoint, [...tlsArgs, ...args]);
    for (const step of [
      ["user", "add", "root", "--new-user-password=rootpw"],
      ["role", "add", "only-foo"],
      ["role", "grant-permission", "only-foo", "readwrite", "foo"],
      ["user", "add", "alice", "--new-user-password=alicepw"],
      ["user", "grant-role", "alice", "only-foo"],
      ["auth", "enable"],
    ]) {
      const res = await ctl(...step);
      expect(res.code, `${step.join(" ")}: ${res.stderr}`).toBe(0);
    }
    // The client certificate says CN=alice: no --user needed.
    expect((await ctl("put", "foo", "by-cert")).code).toBe(0);
    const denied = await ctl("put", "bar", "x");
    expect(denied.stderr).toContain("etcdserver: permission denied");
    const disable = await ctl("--user=root:rootpw", "auth", "disable");
    expect(disable.code, disable.stderr).toBe(0);
  });
});

describe("--auto-tls", () => {
  it("serves TLS with a generated certificate kept in the data dir", async () => {
    const dataDir = tempDir("autotls");
    const member = await startMember({
      dataDir,
      args: ["--auto-tls"],
      tls: { ca: Buffer.alloc(0) },
      insecure: true,
    });
    try {
      const res = await etcdctl(`https://${member.endpoint}`, [
        "--insecure-skip-tls-verify",
        "--insecure-transport=false",
        "put",
        "a",
        "b",
      ]);
      expect(res.code, res.stderr).toBe(0);
      expect(fs.existsSync(path.join(dataDir, "fixtures", "client", "cert.pem"))).toBe(true);
    } finally {
      await member.stop();
    }
  });
});
