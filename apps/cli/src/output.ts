/**
 * Output helpers shared by the commands: etcdctl's ways of printing keys and values (raw or `--hex`), its
 * `-w` formats, Go's %q and %x, and the ASCII tables of `-w table`.
 */
import type { DescMessage } from "@bufbuild/protobuf";
import type { KeyValue } from "@etcd-ts/proto/mvccpb";
import { ExitCode, ExitError } from "./errors.js";
import { goJson } from "./go-json.js";
import type { Session } from "./session.js";

/** Format is a supported -w value. */
export type Format = "simple" | "json" | "fields" | "table" | "protobuf";

/** formatOf checks -w: an unknown format is etcdctl's "unsupported output format" (exit 4). */
export function formatOf(session: Session): Format {
  const w = session.globals.writeOut;
  if (w === "simple" || w === "json" || w === "fields" || w === "table" || w === "protobuf") return w;
  throw new ExitError(ExitCode.badFeature, "unsupported output format");
}

/** tableUnsupported is etcdctl's error for `-w table` on commands without a table layout. */
export function tableUnsupported(): ExitError {
  return new ExitError(ExitCode.badFeature, "table not supported as output format");
}

/** bytesText renders bytes as etcdctl does: the raw bytes, or `\x66\x6f\x6f` with --hex. */
export function bytesText(session: Session, bytes: Uint8Array): Buffer {
  if (!session.globals.hex) return Buffer.from(bytes);
  return Buffer.from([...bytes].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join(""));
}

/** line writes bytes (or text) followed by a newline. */
export function line(session: Session, content: Uint8Array | string): void {
  session.out(typeof content === "string" ? `${content}\n` : Buffer.concat([content, Buffer.from("\n")]));
}

/** printKV prints a key-value pair as two lines (value only with `valueOnly`). */
export function printKV(session: Session, kv: KeyValue, valueOnly = false): void {
  if (!valueOnly) line(session, bytesText(session, kv.key));
  line(session, bytesText(session, kv.value));
}

/** printJson writes one message as etcdctl's JSON printer does. */
export function printJson(session: Session, schema: DescMessage, message: object): void {
  session.out(`${goJson(schema, message as Record<string, unknown>)}\n`);
}

/** hex16 is Go's %016x of a 64-bit id. */
export function hex16(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, "0");
}

/** hex is Go's %x of a 64-bit id. */
export function hex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

/** goQuote is Go's %q of bytes (strconv.Quote): printable UTF-8 kept, the rest escaped. */
export function goQuote(input: Uint8Array | string): string {
  const bytes = typeof input === "string" ? Buffer.from(input) : Buffer.from(input);
  let out = '"';
  let i = 0;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    let ch: string | undefined;
    if (len > 0 && i + len <= bytes.length) {
      try {
        ch = decoder.decode(bytes.subarray(i, i + len));
      } catch {
        ch = undefined;
      }
    }
    if (ch === undefined) {
      out += `\\x${b.toString(16).padStart(2, "0")}`;
      i++;
      continue;
    }
    i += len;
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c === 12) out += "\\f";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 11) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * renderTable draws etcdctl's tables (olekukonko/tablewriter with ALIGN_RIGHT): a border, the centred
 * header, a border, the right-aligned rows and a closing border.
 */
export function renderTable(header: string[], rows: string[][]): string {
  const width = (s: string) => [...s].length;
  const widths = header.map((h, k) => Math.max(width(h), ...rows.map((r) => width(r[k] ?? ""))));
  const border = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+\n`;
  const center = (s: string, w: number) => {
    const total = w - width(s);
    const left = Math.floor(total / 2);
    return " ".repeat(left) + s + " ".repeat(total - left);
  };
  const row = (cells: string[], align: (s: string, w: number) => string) =>
    `|${widths.map((w, k) => ` ${align(cells[k] ?? "", w)} `).join("|")}|\n`;
  const right = (s: string, w: number) => " ".repeat(w - width(s)) + s;
  return border + row(header, center) + border + rows.map((r) => row(r, right)).join("") + border;
}

/** humanBytes is go-humanize's Bytes (SI units): "20 kB", "1.2 MB". */
export function humanBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const unit = units[e] as string;
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  if (val < 10) return `${val.toFixed(1)} ${unit}`;
  // Go's %.0f rounds half to even.
  const floor = Math.floor(val);
  const whole = val - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(val);
  return `${whole} ${unit}`;
}
