import { create } from "@bufbuild/protobuf";
import {
  AlarmRequest_AlarmAction,
  type AlarmResponse,
  AlarmResponseSchema,
  AlarmType,
} from "@etcd-ts/proto/etcdserverpb";

const prefix = "alarm/";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface AlarmBatch {
  put(key: Uint8Array, value: Uint8Array): void;
  del(key: Uint8Array): void;
}

/**
 * AlarmStore keeps the cluster's active alarms (NOSPACE, CORRUPT) per member. Alarms change only through
 * applied raft entries and are persisted in the backend's meta sublevel, so they survive restarts.
 */
export class AlarmStore {
  readonly #alarms = new Map<string, { memberID: bigint; alarm: AlarmType }>();
  /** load restores alarms from stored keys (`alarm/<member hex>/<type>`). */
  load(keys: Iterable<Uint8Array>): void {
    for (const raw of keys) {
      const key = decoder.decode(raw);
      if (!key.startsWith(prefix)) continue;
      const [member, type] = key.slice(prefix.length).split("/");
      if (member === undefined || type === undefined) continue;
      this.#alarms.set(key, { memberID: BigInt(`0x${member}`), alarm: Number(type) as AlarmType });
    }
  }

  /** has tells whether any member has raised `alarm`. */
  has(alarm: AlarmType): boolean {
    for (const a of this.#alarms.values()) if (a.alarm === alarm) return true;
    return false;
  }

  /** list returns the active alarms. */
  list(): Array<{ memberID: bigint; alarm: AlarmType }> {
    return [...this.#alarms.values()];
  }

  /** apply carries out an AlarmRequest: GET lists, ACTIVATE raises, DEACTIVATE clears (NONE = all types). */
  apply(
    batch: AlarmBatch,
    action: AlarmRequest_AlarmAction,
    memberID: bigint,
    alarm: AlarmType,
  ): AlarmResponse {
    const keyOf = (m: bigint, t: AlarmType) => `${prefix}${m.toString(16)}/${t}`;
    const touched: Array<{ memberID: bigint; alarm: AlarmType }> = [];
    switch (action) {
      case AlarmRequest_AlarmAction.GET:
        for (const a of this.#alarms.values()) {
          if (alarm === AlarmType.NONE || a.alarm === alarm) touched.push(a);
        }
        break;
      case AlarmRequest_AlarmAction.ACTIVATE: {
        if (alarm === AlarmType.NONE) break;
        const key = keyOf(memberID, alarm);
        const entry = { memberID, alarm };
        if (!this.#alarms.has(key)) {
          this.#alarms.set(key, entry);
          batch.put(encoder.encode(key), new Uint8Array([1]));
        }
        touched.push(entry);
        break;
      }
      case AlarmRequest_AlarmAction.DEACTIVATE:
        for (const [key, a] of [...this.#alarms]) {
          const sameMember = memberID === 0n || a.memberID === memberID;
          const sameType = alarm === AlarmType.NONE || a.alarm === alarm;
          if (sameMember && sameType) {
            this.#alarms.delete(key);
            batch.del(encoder.encode(key));
            touched.push(a);
          }
        }
        break;
    }
    // etcd answers alarm requests without a response header.
    return create(AlarmResponseSchema, { alarms: touched });
  }
}
