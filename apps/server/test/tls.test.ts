import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, httpsStatus, type Member, startMember, tempDir } from "./harness.js";

/** makeCerts creates a CA, a server certificate for 127.0.0.1 and a client certificate, with openssl. */
function makeCerts(dir: string) {
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=etcd-ts-test-ca",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  ]);
  fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const [name, cn, ext] of [
    ["server", "127.0.0.1", ["-extfile", "server.ext"]],
    ["client", "alice", []],
  ] as const) {
    run([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    ]);
    run([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-out",
      `${name}.pem`,
      ...ext,
    ]);
  }
  const read = (f: string) => fs.readFileSync(path.join(dir, f));
  return { dir, ca: read("ca.pem"), clientCert: read("client.pem"), clientKey: read("client.key") };
}

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
    const res = await etcdctl(endpoint, [`--cacert=${path.join(certs.dir, "ca.pem")}`, "get", "secure"]);
    expect(res.code).not.toBe(0);
    await expect(httpsStatus(`${endpoint}/health`, { ca: certs.ca })).rejects.toThrow();
  });
});
