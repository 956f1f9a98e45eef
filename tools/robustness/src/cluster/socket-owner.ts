import fs from "node:fs";

/**
 * socketOwner finds which of our processes owns the loopback TCP socket bound to `localPort` (the far
 * end of a connection a proxy accepted), through /proc/net/tcp{,6} and /proc/<pid>/fd. It lets a peer
 * proxy tell which member opened a connection, so faults can cut single links. Linux only; undefined
 * when the owner is not one of `pids` or cannot be found.
 */
export function socketOwner(localPort: number, pids: ReadonlyMap<number, string>): string | undefined {
  return socketOwners([localPort], pids).get(localPort);
}

/** socketOwners is `socketOwner` for many ports in one pass over /proc (it is slow: ~50 ms a pass). */
export function socketOwners(
  localPorts: readonly number[],
  pids: ReadonlyMap<number, string>,
): Map<number, string> {
  const wanted = new Set(localPorts);
  const portOf = new Map<string, number>();
  const owners = new Map<number, string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const inode = cols[9];
      if (local === undefined || inode === undefined) continue;
      const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
      if (wanted.has(port) && inode !== "0") portOf.set(inode, port);
    }
  }
  if (portOf.size === 0) return owners;
  for (const [pid, name] of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      const port = match?.[1] === undefined ? undefined : portOf.get(match[1]);
      if (port !== undefined) owners.set(port, name);
    }
  }
  return owners;
}
