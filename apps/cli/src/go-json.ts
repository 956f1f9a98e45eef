/**
 * Go's encoding/json as etcdctl applies it to etcd's gogo-protobuf structs: keys are the proto field names
 * (`cluster_id`, `dbSize`), zero values are left out (omitempty), 64-bit integers are bare numbers, bytes are
 * base64, enums are numbers, and a oneof is `"Response":{"ResponsePut":{...}}`. `-w json` output must match
 * byte for byte, so this is not JSON.stringify.
 */
import type { DescField, DescMessage, DescOneof } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";

/**
 * FIELDS_NEWER_THAN_3_4 are fields our protos carry that etcd 3.4's structs do not have: etcdctl 3.4 never
 * prints them, so neither do we.
 */
const FIELDS_NEWER_THAN_3_4 = new Set([
  "etcdserverpb.StatusResponse.storageVersion",
  "etcdserverpb.StatusResponse.dbSizeQuota",
  "etcdserverpb.StatusResponse.downgradeInfo",
  "etcdserverpb.HashKVResponse.hash_revision",
]);

/** goJsonString quotes a string as Go's encoding/json does (HTML-safe escapes included). */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** goCamel turns a proto name into the Go field name protoc-gen-gogo generates ("response_put" -> "ResponsePut"). */
export function goCamel(name: string): string {
  return name
    .split("_")
    .map((p) => (p === "" ? "_" : (p[0] as string).toUpperCase() + p.slice(1)))
    .join("");
}

function isZero(field: DescField, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  switch (field.fieldKind) {
    case "list":
      return (value as unknown[]).length === 0;
    case "map":
      return Object.keys(value as object).length === 0;
    case "message":
      return false;
    case "enum":
      return value === 0;
    case "scalar":
      if (value instanceof Uint8Array) return value.length === 0;
      return value === 0 || value === 0n || value === "" || value === false;
  }
}

function scalarJson(type: ScalarType, value: unknown): string {
  if (type === ScalarType.BYTES) return `"${Buffer.from(value as Uint8Array).toString("base64")}"`;
  if (type === ScalarType.STRING) return goJsonString(value as string);
  if (type === ScalarType.BOOL) return value ? "true" : "false";
  return String(value);
}

function valueJson(field: DescField, value: unknown): string {
  switch (field.fieldKind) {
    case "scalar":
      return scalarJson(field.scalar, value);
    case "enum":
      return String(value);
    case "message":
      return goJson(field.message, value as Record<string, unknown>);
    case "list": {
      const items = value as unknown[];
      const one = (v: unknown) =>
        field.listKind === "message"
          ? goJson(field.message, v as Record<string, unknown>)
          : field.listKind === "enum"
            ? String(v)
            : scalarJson(field.scalar, v);
      return `[${items.map(one).join(",")}]`;
    }
    case "map":
      return JSON.stringify(value);
  }
}

function oneofJson(oneof: DescOneof, value: { case?: string; value?: unknown } | undefined): string {
  if (value?.case === undefined) return "null";
  const field = oneof.fields.find((f) => f.localName === value.case);
  if (field === undefined) return "null";
  return `{"${goCamel(field.name)}":${valueJson(field, value.value)}}`;
}

/** goJson renders one protobuf-es message as etcdctl 3.4's `json.Marshal` of the matching Go struct. */
export function goJson(schema: DescMessage, message: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const member of schema.members) {
    if (member.kind === "oneof") {
      parts.push(`"${goCamel(member.name)}":${oneofJson(member, message[member.localName] as never)}`);
      continue;
    }
    if (FIELDS_NEWER_THAN_3_4.has(`${schema.typeName}.${member.name}`)) continue;
    const value = message[member.localName];
    if (isZero(member, value)) continue;
    parts.push(`${goJsonString(member.name)}:${valueJson(member, value)}`);
  }
  return `{${parts.join(",")}}`;
}
