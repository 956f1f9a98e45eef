// The workloads tools/compare runs against each system: the same etcd-ts-bench arguments for both.

/**
 * @typedef {object} Workload
 * @property {string} id             short name used in the raw JSON
 * @property {string} label          what the Markdown table shows
 * @property {string[]} args         etcd-ts-bench arguments after --endpoints (global flags, subcommand, flags)
 * @property {"requests" | "events"} metric  "events": throughput is watch events delivered per second
 * @property {boolean} leader        send to the leader only (--target-leader): writes and lease keep-alives
 * @property {boolean} [target]      one of the workloads the targets name (3 members)
 */

/** Key the range workloads read (seeded before the runs). */
export const RANGE_KEY = "compare/range-key";

/**
 * workloads returns the list for a full or a quick run. Totals are sized so a run takes a few seconds at
 * etcd-ts's current speed on a 2-core VM; the key space is large so puts mostly create new revisions of
 * distinct keys, like etcd's own performance guide.
 * @param {boolean} quick
 * @returns {Workload[]}
 */
export function workloads(quick) {
  const t = (full, small) => String(quick ? small : full);
  const kv = ["--key-size", "8", "--val-size", "256", "--key-space-size", "100000"];
  return [
    {
      id: "put-1",
      label: "put, 1 client",
      args: ["--conns", "1", "--clients", "1", "put", "--total", t(1500, 50), ...kv],
      metric: "requests",
      leader: true,
    },
    {
      id: "put-64",
      label: "put, 64 clients",
      args: ["--conns", "8", "--clients", "64", "put", "--total", t(6000, 200), ...kv],
      metric: "requests",
      leader: true,
    },
    {
      id: "put-256",
      label: "put, 256 clients",
      args: ["--conns", "16", "--clients", "256", "put", "--total", t(10000, 300), ...kv],
      metric: "requests",
      leader: true,
      target: true,
    },
    {
      id: "range-l",
      label: "range, linearizable (64 clients)",
      args: [
        "--conns",
        "8",
        "--clients",
        "64",
        "range",
        RANGE_KEY,
        "--consistency",
        "l",
        "--total",
        t(10000, 200),
      ],
      metric: "requests",
      leader: false,
      target: true,
    },
    {
      id: "range-s",
      label: "range, serializable (64 clients)",
      args: [
        "--conns",
        "8",
        "--clients",
        "64",
        "range",
        RANGE_KEY,
        "--consistency",
        "s",
        "--total",
        t(10000, 200),
      ],
      metric: "requests",
      leader: false,
      target: true,
    },
    {
      id: "txn-put",
      label: "txn-put (64 clients)",
      args: ["--conns", "8", "--clients", "64", "txn-put", "--total", t(6000, 200), ...kv],
      metric: "requests",
      leader: true,
      target: true,
    },
    {
      id: "watch",
      label: "watch fan-out, 1,000 watchers (events/s)",
      args: [
        "--conns",
        "4",
        "--clients",
        "8",
        "watch",
        "--streams",
        "10",
        "--watch-per-stream",
        "100",
        "--watched-key-total",
        "10",
        "--put-total",
        t(400, 20),
      ],
      metric: "events",
      leader: false,
    },
    {
      id: "lease-keepalive",
      label: "lease keep-alive (64 clients)",
      args: ["--conns", "8", "--clients", "64", "lease-keepalive", "--total", t(10000, 200)],
      metric: "requests",
      leader: true,
    },
  ];
}
