/** CpuUsage is how much CPU this (client) process used during a phase. */
export interface CpuUsage {
  /** user + system CPU seconds */
  readonly cpuSeconds: number;
  /** cpuSeconds / wall seconds * 100: 100 = one core fully busy */
  readonly percentOfOneCore: number;
}

/**
 * CpuMeter measures the benchmark's own CPU (process.cpuUsage) over a phase, so a run can show whether the
 * client, not the server, was the bottleneck.
 */
export class CpuMeter {
  private readonly startUsage = process.cpuUsage();
  private readonly startMs = performance.now();

  /** stop returns the CPU used since construction. */
  stop(): CpuUsage {
    const usage = process.cpuUsage(this.startUsage);
    const wallSeconds = (performance.now() - this.startMs) / 1000;
    const cpuSeconds = (usage.user + usage.system) / 1e6;
    return { cpuSeconds, percentOfOneCore: wallSeconds > 0 ? (cpuSeconds / wallSeconds) * 100 : 0 };
  }
}
