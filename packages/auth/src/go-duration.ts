/**
 * parseGoDurationMs parses a Go `time.Duration` string such as "10m", "1h30m", "300s", "1.5s" or "250ms"
 * (the form etcd's `--auth-token` ttl takes) into milliseconds. Returns undefined when it is not one.
 */
export function parseGoDurationMs(text: string): number | undefined {
  const unitMs: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const match = re.exec(text);
    if (match === null) return undefined;
    total += Number(match[1]) * (unitMs[match[2] as string] as number);
    pos = re.lastIndex;
  }
  if (pos === 0 || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}
