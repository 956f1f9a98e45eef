import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCerts } from "./certs.js";
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
    const res = await etcdctl(endpoint, [`--cacert=${path.join(certs.dir, "ca.pem")}`, "get", "secure"]);
    expect(res.code).not.toBe(0);
    await expect(httpsStatus(`${endpoint}/health`, { ca: certs.ca })).rejects.toThrow();
  });
});
