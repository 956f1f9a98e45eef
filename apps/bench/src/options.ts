import type { TransportKind } from "./connections.js";
import type { CpuUsage } from "./cpu-meter.js";
import type { ReportStats } from "./report.js";

/** GlobalOptions are the flags every subcommand takes (etcd benchmark's persistent flags). */
export interface GlobalOptions {
  /** base URLs, e.g. ["http://127.0.0.1:2379"] */
  readonly endpoints: readonly string[];
  /** HTTP/2 connections (`--conns`) */
  readonly conns: number;
  /** concurrent requesters spread over the connections (`--clients`) */
  readonly clients: number;
  /** send only to the leader (`--target-leader`) */
  readonly targetLeader: boolean;
  /** the client's unary call path (`--transport`, default "lean") */
  readonly transport: TransportKind;
  /** draw a progress bar on stderr (when it is a terminal) */
  readonly progress: boolean;
}

/** Section is one titled report in a result, e.g. "Watch creation summary:". */
export interface Section {
  /** printed before the report (etcd's wording), or none */
  readonly title?: string;
  readonly stats: ReportStats;
}

/** BenchResult is what a subcommand returns; `--json` prints it as is. */
export interface BenchResult {
  /** the subcommand, e.g. "put" */
  readonly command: string;
  /** the endpoints actually used (after `--target-leader`) */
  readonly endpoints: readonly string[];
  readonly conns: number;
  readonly clients: number;
  /** line(s) etcd prints before the reports, e.g. "bench with linearizable range" */
  readonly preamble?: string;
  readonly sections: readonly Section[];
  /** extra figures of a subcommand (watch: events delivered, events/sec) */
  readonly extra?: Readonly<Record<string, number>>;
  /** CPU used by this benchmark process during the measured phase(s) */
  readonly clientCpu: CpuUsage;
}
