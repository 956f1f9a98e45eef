/**
 * etcdctl 3.4 logs through zap's JSON encoder to stderr; a failed unary RPC, for one, leaves a
 * "retrying of unary invoker failed" warning before the "Error: ..." line. Scripts that capture stderr see
 * these lines, so etcdctl-ts writes them the same way (with Go's field order and time format).
 */
import { goJsonString } from "./go-json.js";

/** ZapField is one extra key/value of a log line, in order. */
export type ZapField = [key: string, value: string | number];

/** zapTime renders a time as zap's ISO8601 encoder does: 2026-11-23T22:14:28.699Z. */
export function zapTime(date: Date): string {
  return date.toISOString();
}

/** zapLine renders one log line (without the newline). */
export function zapLine(
  level: "info" | "warn" | "error",
  caller: string,
  msg: string,
  fields: ZapField[],
): string {
  const parts = [
    `"level":"${level}"`,
    `"ts":"${zapTime(new Date())}"`,
    `"caller":${goJsonString(caller)}`,
    `"msg":${goJsonString(msg)}`,
    ...fields.map(([k, v]) => `${goJsonString(k)}:${typeof v === "number" ? String(v) : goJsonString(v)}`),
  ];
  return `{${parts.join(",")}}`;
}

/** capnslogLine renders etcd's older capnslog format: "2026-11-23 22:16:44.050531 W | pkg/flags: ...". */
export function capnslogLine(level: "W" | "C" | "E" | "I", pkg: string, msg: string): string {
  const d = new Date();
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds() * 1000, 6)}`;
  return `${stamp} ${level} | ${pkg}: ${msg}`;
}
