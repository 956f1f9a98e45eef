/**
 * Key ranges as etcdctl builds them: `--prefix` (the range of keys starting with the key; all keys for an
 * empty key), `--from-key` (every key >= the key) and an explicit range end.
 */
import { prefixEnd } from "@etcd-ts/client";
import { badArgs } from "./errors.js";

/** KeyRange is a key and its range end (empty: a single key). */
export interface KeyRange {
  key: Uint8Array;
  rangeEnd: Uint8Array;
}

const ZERO = new Uint8Array([0]);

/** utf8 turns a command-line string into bytes. */
export function utf8(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "utf8"));
}

/**
 * keyRange checks and builds the range of get/del/watch arguments. `what` names the command in etcdctl's
 * messages ("get", "del").
 */
export function keyRange(args: string[], prefix: boolean, fromKey: boolean, what: string): KeyRange {
  if (args.length === 0 || args.length > 2) {
    throw badArgs(`${what} command needs one argument as key and an optional argument as range_end`);
  }
  if (prefix && fromKey)
    throw badArgs("`--prefix` and `--from-key` cannot be set at the same time, choose one");
  const key = utf8(args[0] as string);
  if (args.length === 2) {
    if (prefix || fromKey)
      throw badArgs("too many arguments, only accept one argument when `--prefix` or `--from-key` is set");
    return { key, rangeEnd: utf8(args[1] as string) };
  }
  if (prefix) return key.length === 0 ? { key: ZERO, rangeEnd: ZERO } : { key, rangeEnd: prefixEnd(key) };
  if (fromKey) return { key: key.length === 0 ? ZERO : key, rangeEnd: ZERO };
  return { key, rangeEnd: new Uint8Array() };
}
