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

/**
 * makeBadClientCerts adds, next to makeCerts' files, a client certificate that has already expired
 * (`expired.pem`) and one signed by another CA (`foreign.pem`), each with its key.
 */
export function makeBadClientCerts(dir: string): void {
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
    "/CN=other-ca",
    "-keyout",
    "other-ca.key",
    "-out",
    "other-ca.pem",
  ]);
  for (const [name, ca, days] of [
    ["expired", "ca", "-1"],
    ["foreign", "other-ca", "2"],
  ] as const) {
    run([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${name}`,
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
      `${ca}.pem`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
      "-days",
      days,
      "-out",
      `${name}.pem`,
    ]);
  }
}
