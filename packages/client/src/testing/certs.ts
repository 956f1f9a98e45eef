/** Test certificates: a CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** TestCerts are the PEM files (paths, for the server) and contents (for the client) of one test CA. */
export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly ca: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  /** remove deletes the directory. */
  remove(): void;
}

/** makeCerts creates a fresh CA, a server certificate (IP 127.0.0.1) and a client certificate (CN alice). */
export function makeCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd-ts-client-certs-"));
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const rsa = ["-newkey", "rsa:2048", "-nodes"];
  run([
    "req",
    "-x509",
    ...rsa,
    "-days",
    "2",
    "-subj",
    "/CN=etcd-ts-client-test-ca",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  ]);
  fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  fs.writeFileSync(path.join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const [name, cn] of [
    ["server", "127.0.0.1"],
    ["client", "alice"],
  ] as const) {
    run(["req", ...rsa, "-subj", `/CN=${cn}`, "-keyout", `${name}.key`, "-out", `${name}.csr`]);
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
      "-extfile",
      `${name}.ext`,
    ]);
  }
  const file = (f: string) => path.join(dir, f);
  return {
    dir,
    caFile: file("ca.pem"),
    serverCertFile: file("server.pem"),
    serverKeyFile: file("server.key"),
    ca: fs.readFileSync(file("ca.pem")),
    clientCert: fs.readFileSync(file("client.pem")),
    clientKey: fs.readFileSync(file("client.key")),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
