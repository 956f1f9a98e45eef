import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, type Member, startMember, tempDir } from "./harness.js";

// RBAC end to end with Debian's etcdctl: users, roles, permissions, tokens.
describe("auth with etcdctl", () => {
  let member: Member;
  const ctl = (args: string[], input?: string) => etcdctl(member.endpoint, args, input);

  beforeAll(async () => {
    member = await startMember({ dataDir: tempDir("auth"), args: ["--bcrypt-cost", "4"] });
  }, 30_000);

  afterAll(async () => {
    await member?.stop();
  });

  it("refuses to enable auth without a root user", async () => {
    const res = await ctl(["auth", "enable"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("etcdserver: root user does not exist");
  });

  it("enables auth and enforces key permissions per user", async () => {
    expect((await ctl(["user", "add", "root", "--new-user-password=rootpw"])).stdout).toBe(
      "User root created\n",
    );
    expect((await ctl(["user", "add", "alice", "--new-user-password=alicepw"])).stdout).toBe(
      "User alice created\n",
    );
    expect((await ctl(["role", "add", "app"])).stdout).toBe("Role app created\n");
    const grant = await ctl(["role", "grant-permission", "app", "readwrite", "/app/", "--prefix=true"]);
    expect(grant.stdout).toBe("Role app updated\n");
    expect((await ctl(["user", "grant-role", "alice", "app"])).stdout).toBe(
      "Role app is granted to user alice\n",
    );
    expect((await ctl(["auth", "enable"])).stdout).toBe("Authentication Enabled\n");

    expect((await ctl(["put", "/app/x", "1", "--user=alice:alicepw"])).stdout).toBe("OK\n");
    expect((await ctl(["get", "/app/x", "--user=alice:alicepw", "--print-value-only"])).stdout).toBe("1\n");
    const denied = await ctl(["put", "/other", "1", "--user=alice:alicepw"]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("etcdserver: permission denied");
    const readDenied = await ctl(["get", "/other", "--user=alice:alicepw"]);
    expect(readDenied.stderr).toContain("etcdserver: permission denied");
    const wrong = await ctl(["get", "/app/x", "--user=alice:nope"]);
    expect(wrong.stderr).toContain("etcdserver: authentication failed, invalid user ID or password");
    const anonymous = await ctl(["get", "/app/x"]);
    expect(anonymous.code).not.toBe(0);

    expect((await ctl(["put", "/other", "2", "--user=root:rootpw"])).stdout).toBe("OK\n");
    expect((await ctl(["user", "list", "--user=root:rootpw"])).stdout).toBe("alice\nroot\n");
    expect((await ctl(["auth", "disable", "--user=root:rootpw"])).stdout).toBe("Authentication Disabled\n");
    expect((await ctl(["get", "/other", "--print-value-only"])).stdout).toBe("2\n");
  });

  it("never writes a plaintext password to the WAL or the backend", async () => {
    const added = await ctl(["user", "add", "carol", "--new-user-password=carol-secret-pw"]);
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const changed = await ctl(["user", "passwd", "carol", "--interactive=false"], "carol-new-secret\n");
    expect(changed.stdout).toBe("Password updated\n");
    await member.stop();
    const fs = await import("node:fs");
    const path = await import("node:path");
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else files.push(full);
      }
    };
    walk(member.dataDir);
    expect(files.some((f) => f.endsWith(".wal"))).toBe(true);
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      for (const secret of ["rootpw", "alicepw", "carol-secret-pw", "carol-new-secret"]) {
        expect(bytes.includes(Buffer.from(secret)), `${secret} in ${file}`).toBe(false);
      }
    }
    // The scan can find what is there: the user name is stored.
    expect(files.some((f) => fs.readFileSync(f).includes(Buffer.from("carol")))).toBe(true);
  });
});

describe("logs", () => {
  it("never contain a password or a token, even at debug level", async () => {
    // Debug logs: the most a member ever writes.
    const member = await startMember({
      dataDir: tempDir("auth-logs"),
      args: ["--bcrypt-cost", "4", "--log-level", "debug"],
    });
    try {
      const ctl = (args: string[]) => etcdctl(member.endpoint, args);
      const password = "Sup3r-Secret-Passw0rd";
      for (const step of [
        ["user", "add", "root", "--new-user-password=root-Passw0rd"],
        ["user", "add", "carol", `--new-user-password=${password}`],
        ["auth", "enable"],
      ]) {
        const res = await ctl(step);
        expect(res.code, res.stderr).toBe(0);
      }
      // carol may read her own user (she has no key permissions).
      const own = await ctl(["user", "get", "carol", `--user=carol:${password}`]);
      expect(own.code, own.stderr).toBe(0);
      expect((await ctl(["get", "x", "--user=carol:wrong-Passw0rd-guess"])).code).not.toBe(0);
      const auth = await fetch(`http://${member.endpoint}/v3/auth/authenticate`, {
        method: "POST",
        body: JSON.stringify({ name: "carol", password }),
      });
      const { token } = (await auth.json()) as { token: string };
      expect(token.length).toBeGreaterThan(10);
      const read = await fetch(`http://${member.endpoint}/v3/kv/range`, {
        method: "POST",
        headers: { authorization: token },
        body: JSON.stringify({ key: "eA==" }),
      });
      expect(read.status).toBe(403); // a valid token, but no permission on the key
      await member.stop();
      const logs = member.output();
      expect(logs).toContain('"level":"info"'); // the logs were captured at debug level
      for (const secret of [password, "wrong-Passw0rd-guess", "root-Passw0rd", token]) {
        expect(logs).not.toContain(secret);
      }
    } finally {
      await member.stop();
    }
  });
});
