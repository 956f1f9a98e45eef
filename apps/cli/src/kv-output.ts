/**
 * Printing of KV responses (get, put, del, txn) in etcdctl's simple, json and fields formats.
 */
import {
  type DeleteRangeResponse,
  DeleteRangeResponseSchema,
  type PutResponse,
  PutResponseSchema,
  type RangeResponse,
  RangeResponseSchema,
  type ResponseHeader,
  type TxnResponse,
  TxnResponseSchema,
} from "@etcd-ts/proto/etcdserverpb";
import type { KeyValue } from "@etcd-ts/proto/mvccpb";
import { formatOf, goQuote, line, printJson, printKV, tableUnsupported } from "./output.js";
import type { Session } from "./session.js";

/** fieldsHeader prints a response header in the fields format. */
export function fieldsHeader(session: Session, h: ResponseHeader | undefined): void {
  session.out(
    `"ClusterID" : ${h?.clusterId ?? 0n}\n"MemberID" : ${h?.memberId ?? 0n}\n"Revision" : ${h?.revision ?? 0n}\n"RaftTerm" : ${h?.raftTerm ?? 0n}\n`,
  );
}

/** fieldsKV prints a key-value pair in the fields format; `prefix` is "Prev" for previous values. */
export function fieldsKV(session: Session, kv: KeyValue, prefix = ""): void {
  session.out(
    `"${prefix}Key" : ${goQuote(kv.key)}\n"${prefix}CreateRevision" : ${kv.createRevision}\n"${prefix}ModRevision" : ${kv.modRevision}\n"${prefix}Version" : ${kv.version}\n"${prefix}Value" : ${goQuote(kv.value)}\n"${prefix}Lease" : ${kv.lease}\n`,
  );
}

/** printGet prints a range response; valueOnly is --print-value-only. */
export function printGet(session: Session, r: RangeResponse, valueOnly = false): void {
  switch (formatOf(session)) {
    case "json":
      printJson(session, RangeResponseSchema, r);
      return;
    case "fields":
      fieldsHeader(session, r.header);
      for (const kv of r.kvs) fieldsKV(session, kv);
      session.out(`"More" : ${r.more}\n"Count" : ${r.count}\n`);
      return;
    case "table":
      throw tableUnsupported();
    default:
      for (const kv of r.kvs) printKV(session, kv, valueOnly);
  }
}

/** printPut prints a put response. */
export function printPut(session: Session, r: PutResponse): void {
  switch (formatOf(session)) {
    case "json":
      printJson(session, PutResponseSchema, r);
      return;
    case "fields":
      fieldsHeader(session, r.header);
      if (r.prevKv !== undefined) fieldsKV(session, r.prevKv, "Prev");
      return;
    case "table":
      throw tableUnsupported();
    default:
      line(session, "OK");
      if (r.prevKv !== undefined) printKV(session, r.prevKv);
  }
}

/** printDel prints a delete response. */
export function printDel(session: Session, r: DeleteRangeResponse): void {
  switch (formatOf(session)) {
    case "json":
      printJson(session, DeleteRangeResponseSchema, r);
      return;
    case "fields":
      fieldsHeader(session, r.header);
      session.out(`"Deleted" : ${r.deleted}\n`);
      for (const kv of r.prevKvs) fieldsKV(session, kv, "Prev");
      return;
    case "table":
      throw tableUnsupported();
    default:
      line(session, String(r.deleted));
      for (const kv of r.prevKvs) printKV(session, kv);
  }
}

/** printTxn prints a txn response: SUCCESS/FAILURE, then each response after an empty line. */
export function printTxn(session: Session, r: TxnResponse): void {
  switch (formatOf(session)) {
    case "json":
      printJson(session, TxnResponseSchema, r);
      return;
    case "table":
      throw tableUnsupported();
    case "fields":
      fieldsHeader(session, r.header);
      session.out(`"Succeeded" : ${r.succeeded}\n`);
      break;
    default:
      line(session, r.succeeded ? "SUCCESS" : "FAILURE");
  }
  for (const op of r.responses) {
    if (formatOf(session) === "simple") line(session, "");
    const res = op.response;
    if (res.case === "responsePut") printPut(session, res.value);
    else if (res.case === "responseRange") printGet(session, res.value);
    else if (res.case === "responseDeleteRange") printDel(session, res.value);
    else line(session, `unexpected response ${JSON.stringify(res.case)}`);
  }
}
