import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** makeCerts creates a CA, a server certificate for 127.0.0.1 and a client certificate, with openssl. */
export function makeCerts(dir: string) {
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
