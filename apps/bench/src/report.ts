import * as hdr from "hdr-histogram-js";
import { assert } from "./assert.js";

/** PERCENTILES are the points etcd's benchmark prints under "Latency distribution". */
export const PERCENTILES: readonly number[] = [10, 25, 50, 75, 90, 95, 99, 99.9];

/** HISTOGRAM_BUCKETS is how many equal-width buckets (plus the slowest) the text histogram has. */
export const HISTOGRAM_BUCKETS = 10;

/** Bar width of the fullest histogram bucket, in characters. */
const BAR_WIDTH_MAX = 40;
const BAR_CHAR = "∎";

/** Highest latency the HDR histogram tracks without resizing: one hour, in microseconds. */
const HIGHEST_TRACKABLE_MICROS = 3_600_000_000;

/** Percentile is one line of the latency distribution. */
export interface Percentile {
  /** percent in (0, 100], e.g. 99.9 */
  readonly percent: number;
  /** latency at that percentile, in seconds */
  readonly seconds: number;
}

/** HistogramBucket is one line of the text histogram: the requests with latency up to `upperSeconds`. */
export interface HistogramBucket {
  readonly upperSeconds: number;
  readonly count: number;
}

/** ReportStats is the result of one measured phase, in the shape `--json` prints. */
export interface ReportStats {
  /** name of the phase, e.g. "put", "txn-mixed-read", "watch-events" */
  readonly name: string;
  /** successful operations */
  readonly count: number;
  /** failed operations per error message */
  readonly errors: Readonly<Record<string, number>>;
  /** wall time of the phase */
  readonly totalSeconds: number;
  readonly slowestSeconds: number;
  readonly fastestSeconds: number;
  readonly averageSeconds: number;
  readonly stddevSeconds: number;
  /** successful operations per second of wall time */
  readonly requestsPerSecond: number;
  readonly percentiles: readonly Percentile[];
  readonly histogram: readonly HistogramBucket[];
}

/**
 * Report collects the latencies of one phase into an HDR histogram (3 significant digits, so percentiles are
 * within 0.1%) plus exact minimum, maximum, mean and standard deviation, like etcd's `pkg/report`.
 * `record` is on the hot path: it does a few float operations and one histogram increment, no allocation.
 */
export class Report {
  readonly name: string;
  private readonly histogram: hdr.Histogram;
  private readonly now: () => number;
  private startMs: number | undefined;
  private endMs: number | undefined;
  private count = 0;
  private sumSeconds = 0;
  private sumSquaresSeconds = 0;
  private minSeconds = Number.POSITIVE_INFINITY;
  private maxSeconds = 0;
  private readonly errors = new Map<string, number>();

  /** `now` returns milliseconds (performance.now by default); tests inject a fake clock. */
  constructor(name: string, now: () => number = () => performance.now()) {
    this.name = name;
    this.now = now;
    this.histogram = hdr.build({
      bitBucketSize: 64,
      autoResize: true,
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_TRACKABLE_MICROS,
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    });
  }

  /** start marks the beginning of the measured wall time (the first `record` does it when not called). */
  start(): void {
    this.startMs ??= this.now();
  }

  /** record adds one successful operation that took `latencyMs` milliseconds. */
  record(latencyMs: number): void {
    this.startMs ??= this.now() - latencyMs;
    const seconds = latencyMs / 1000;
    this.count++;
    this.sumSeconds += seconds;
    this.sumSquaresSeconds += seconds * seconds;
    if (seconds < this.minSeconds) this.minSeconds = seconds;
    if (seconds > this.maxSeconds) this.maxSeconds = seconds;
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  /** recordError counts one failed operation under its message (failed operations have no latency). */
  recordError(message: string): void {
    this.startMs ??= this.now();
    this.errors.set(message, (this.errors.get(message) ?? 0) + 1);
  }

  /** finish marks the end of the wall time (first call wins) and returns the statistics. */
  finish(): ReportStats {
    this.startMs ??= this.now();
    this.endMs ??= this.now();
    const totalSeconds = Math.max(0, (this.endMs - this.startMs) / 1000);
    const count = this.count;
    const average = count === 0 ? 0 : this.sumSeconds / count;
    const variance = count === 0 ? 0 : Math.max(0, this.sumSquaresSeconds / count - average * average);
    const fastest = count === 0 ? 0 : this.minSeconds;
    const slowest = this.maxSeconds;
    const stats: ReportStats = {
      name: this.name,
      count,
      errors: Object.fromEntries(this.errors),
      totalSeconds,
      slowestSeconds: slowest,
      fastestSeconds: fastest,
      averageSeconds: average,
      stddevSeconds: Math.sqrt(variance),
      requestsPerSecond: totalSeconds > 0 ? count / totalSeconds : 0,
      percentiles: count === 0 ? [] : this.percentiles(fastest, slowest),
      histogram: count === 0 ? [] : this.buckets(fastest, slowest),
    };
    return stats;
  }

  /** releases the histogram's memory. */
  destroy(): void {
    this.histogram.destroy();
  }

  private percentiles(fastest: number, slowest: number): Percentile[] {
    return PERCENTILES.map((percent) => {
      // HDR reports the highest value equivalent to the bucket; clamp to what was really seen.
      const seconds = this.histogram.getValueAtPercentile(percent) / 1e6;
      return { percent, seconds: Math.min(slowest, Math.max(fastest, seconds)) };
    });
  }

  private buckets(fastest: number, slowest: number): HistogramBucket[] {
    const width = (slowest - fastest) / HISTOGRAM_BUCKETS;
    const uppers: number[] = [];
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) uppers.push(fastest + width * i);
    uppers.push(slowest);
    const counts = uppers.map(() => 0);
    const histogram = this.histogram;
    assert(histogram instanceof hdr.JsHistogram, "the report uses the JavaScript HDR histogram");
    const iterator = histogram.recordedValuesIterator;
    iterator.reset();
    while (iterator.hasNext()) {
      const step = iterator.next();
      // An HDR bucket covers a small range; use its lowest value, clamped to the exact extremes.
      const lowest = histogram.lowestEquivalentValue(step.valueIteratedTo) / 1e6;
      const seconds = Math.min(slowest, Math.max(fastest, lowest));
      let bucket = 0;
      while (bucket < uppers.length - 1 && seconds > (uppers[bucket] ?? slowest)) bucket++;
      counts[bucket] = (counts[bucket] ?? 0) + step.countAtValueIteratedTo;
    }
    const total = counts.reduce((a, b) => a + b, 0);
    assert(total === this.count, `histogram holds ${total} values, recorded ${this.count}`);
    return uppers.map((upperSeconds, i) => ({ upperSeconds, count: counts[i] ?? 0 }));
  }
}

/** formatOptions controls number formatting: etcd prints 4 decimals, `--precise` prints full precision. */
export interface FormatOptions {
  readonly precise?: boolean;
}

function num(value: number, options: FormatOptions): string {
  return options.precise === true ? String(value) : value.toFixed(4);
}

/**
 * formatReport renders stats as etcd's benchmark does: the Summary block, the response time histogram, the
 * latency distribution and, when any request failed, the error distribution.
 */
export function formatReport(stats: ReportStats, options: FormatOptions = {}): string {
  let out = "";
  if (stats.count > 0) {
    out += "\nSummary:\n";
    out += `  Total:\t${num(stats.totalSeconds, options)} secs.\n`;
    out += `  Slowest:\t${num(stats.slowestSeconds, options)} secs.\n`;
    out += `  Fastest:\t${num(stats.fastestSeconds, options)} secs.\n`;
    out += `  Average:\t${num(stats.averageSeconds, options)} secs.\n`;
    out += `  Stddev:\t${num(stats.stddevSeconds, options)} secs.\n`;
    out += `  Requests/sec:\t${num(stats.requestsPerSecond, options)}\n`;
    out += "\nResponse time histogram:\n";
    const max = Math.max(...stats.histogram.map((b) => b.count));
    for (const bucket of stats.histogram) {
      const bar = max > 0 ? Math.floor((bucket.count * BAR_WIDTH_MAX) / max) : 0;
      out += `  ${num(bucket.upperSeconds, options)} [${bucket.count}]\t|${BAR_CHAR.repeat(bar)}\n`;
    }
    out += "\nLatency distribution:\n";
    for (const p of stats.percentiles) {
      if (p.seconds > 0) out += `  ${p.percent}% in ${num(p.seconds, options)} secs.\n`;
    }
  }
  const errors = Object.entries(stats.errors);
  if (errors.length > 0) {
    out += "\nError distribution:\n";
    for (const [message, n] of errors) out += `  [${n}]\t${message}\n`;
  }
  return out;
}
