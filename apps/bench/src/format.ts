import type { BenchResult } from "./options.js";
import { type FormatOptions, formatReport } from "./report.js";

/**
 * formatResult renders a result as etcd's benchmark prints it: the preamble, then each section's title and
 * report (Summary, histogram, latency distribution, errors), then any extra figures.
 */
export function formatResult(result: BenchResult, options: FormatOptions = {}): string {
  let out = "";
  if (result.preamble !== undefined) out += `${result.preamble}\n`;
  for (const section of result.sections) {
    if (section.title !== undefined) out += section.title;
    out += formatReport(section.stats, options);
    if (section.title !== undefined) out += "\n";
  }
  if (result.extra !== undefined) {
    out += "\n";
    for (const [name, value] of Object.entries(result.extra)) {
      out += `  ${name}:\t${Number.isInteger(value) ? value : value.toFixed(4)}\n`;
    }
  }
  return out;
}

/** formatClientCpu is the line about the benchmark's own CPU (printed on stderr, not part of etcd's output). */
export function formatClientCpu(result: BenchResult): string {
  const cpu = result.clientCpu;
  return `client CPU: ${cpu.cpuSeconds.toFixed(2)} s (${cpu.percentOfOneCore.toFixed(0)}% of one core)\n`;
}
