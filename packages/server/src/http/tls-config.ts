import fs from "node:fs";
import path from "node:path";

/**
 * Go's names for the TLS 1.2 cipher suites etcd accepts in --cipher-suites, mapped to OpenSSL's names (what
 * Node takes). TLS 1.3 suites are not configurable, as in Go.
 */
const goCipherSuites: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
  TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
};

/** TLS 1.3's suites, kept when --cipher-suites narrows TLS 1.2 (Go does not let them be configured). */
const tls13Suites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

/** cipherList turns etcd's --cipher-suites (Go names) into Node's `ciphers` string; throws on an unknown name. */
export function cipherList(names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  const openssl = names.map((name) => {
    const mapped = goCipherSuites[name];
    if (mapped === undefined)
      throw new Error(`--cipher-suites: unexpected TLS cipher suite ${JSON.stringify(name)}`);
    return mapped;
  });
  return `${tls13Suites}:${openssl.join(":")}`;
}

/**
 * autoTlsFiles returns a self-signed certificate and key for --auto-tls / --peer-auto-tls, kept under
 * `<data-dir>/fixtures/<kind>` (as etcd does) and reused across restarts while still valid.
 */
export async function autoTlsFiles(
  dataDir: string,
  kind: "client" | "peer",
  hosts: readonly string[],
  validityDays: number,
): Promise<{ certFile: string; keyFile: string }> {
  const dir = path.join(dataDir, "fixtures", kind);
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) return { certFile, keyFile };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ipPattern = /^[\d.]+$|:/;
  // Loaded only here: the certificate libraries are a seventh of the server's start-up time, and most
  // members never generate a certificate.
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: "etcd-ts" }], {
    days: validityDays,
    keySize: 2048,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true, clientAuth: true },
      {
        name: "subjectAltName",
        altNames: hosts.map((host) =>
          ipPattern.test(host) ? { type: 7, ip: host } : { type: 2, value: host },
        ),
      },
    ],
  } as never);
  fs.writeFileSync(keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(certFile, pems.cert, { mode: 0o644 });
  return { certFile, keyFile };
}
