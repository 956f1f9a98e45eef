/**
 * Go's time.Duration text: etcdctl takes `--dial-timeout=2s` style values and prints durations such as
 * `took = 1.156206ms`, so both directions follow Go's rules.
 */

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** parseGoDuration parses "5s", "1m30s", "250ms", "1.5h" into milliseconds (undefined when malformed). */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return undefined;
  let totalNs = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (m === null) return undefined;
    totalNs += Number(m[1]) * (UNIT_NS[m[2] as string] as number);
    s = s.slice(m[0].length);
  }
  return (sign * totalNs) / 1e6;
}

/** formatGoDuration renders milliseconds as Go's Duration.String does ("5s", "1m0s", "500ms"). */
export function formatGoDuration(ms: number): string {
  return formatGoDurationNs(Math.round(ms * 1e6));
}

/** formatGoDurationNs renders nanoseconds as Go's Duration.String does ("1.156206ms", "2.5s", "1h0m0s"). */
export function formatGoDurationNs(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let n = Math.abs(Math.round(ns));
  let out: string;
  if (n < 1e9) {
    const [unit, size] = n < 1e3 ? ["ns", 1] : n < 1e6 ? ["µs", 1e3] : ["ms", 1e6];
    out = `${trimFraction(n, size as number)}${unit}`;
  } else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const s = `${trimFraction(n, 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(n: number, size: number): string {
  const whole = Math.floor(n / size);
  const frac = n - whole * size;
  if (frac === 0) return String(whole);
  const digits = String(size).length - 1;
  return `${whole}.${String(frac).padStart(digits, "0").replace(/0+$/, "")}`;
}
