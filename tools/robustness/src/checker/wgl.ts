import { assert } from "../assert.js";
import { Bitset } from "./bitset.js";
import type { CheckVerdict, Model, Operation } from "./operation.js";

/** SearchLimits bounds one WGL search; when a bound is hit the verdict is "unknown". */
export interface SearchLimits {
  /** deadlineMs is an absolute `Date.now()` after which the search gives up. */
  readonly deadlineMs?: number;
  /** maxCacheEntries bounds the memo table (memory). */
  readonly maxCacheEntries?: number;
}

/** SearchResult is the verdict for one partition plus what the report needs. */
export interface SearchResult {
  readonly verdict: CheckVerdict;
  /** longest is the longest linearization found (operation indexes, in order); all of them when ok. */
  readonly longest: readonly number[];
  /** explored is how many distinct (linearized set, state) pairs were visited. */
  readonly explored: number;
}

interface Entry {
  readonly op: number;
  readonly isCall: boolean;
  /** match links a call entry to its return entry. */
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

const defaultMaxCacheEntries = 5_000_000;

/**
 * searchLinearization is the Wing-Gong-Lowe search with memoisation of (linearized set, state), as in
 * Lowe's "Testing for linearizability" and Porcupine: walk the pending calls in real-time order, try to
 * linearize each one whose output the model accepts, backtrack on a return that cannot be reached.
 * Open-ended operations sit after every finite return, so reaching one of them means every finite
 * operation is linearized: success (the open ones not yet taken never happened).
 */
export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  limits: SearchLimits = {},
): SearchResult {
  const n = operations.length;
  if (n === 0) return { verdict: "ok", longest: [], explored: 0 };
  const head = buildEntries(operations);
  const linearized = new Bitset(n);
  const cache = new Set<string>();
  const stack: Array<{ entry: Entry; state: S }> = [];
  const maxCache = limits.maxCacheEntries ?? defaultMaxCacheEntries;
  let state = model.init();
  let longest: number[] = [];
  let entry = head.next;
  let iterations = 0;
  while (entry !== undefined) {
    if ((++iterations & 1023) === 0 && limits.deadlineMs !== undefined && Date.now() > limits.deadlineMs) {
      return { verdict: "unknown", longest, explored: cache.size };
    }
    if (entry.isCall) {
      const op = operations[entry.op];
      assert(op !== undefined, `operation ${entry.op}`);
      const next = model.step(state, op.input, op.output);
      if (next !== undefined) {
        linearized.set(entry.op);
        const memoKey = `${linearized.key()}|${model.key(next)}`;
        if (!cache.has(memoKey)) {
          if (cache.size >= maxCache) return { verdict: "unknown", longest, explored: cache.size };
          cache.add(memoKey);
          stack.push({ entry, state });
          state = next;
          if (stack.length > longest.length) longest = stack.map((s) => s.entry.op);
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized.clear(entry.op);
      }
      entry = entry.next;
      continue;
    }
    // A return entry: its call was not linearized before this point.
    const op = operations[entry.op];
    assert(op !== undefined, `operation ${entry.op}`);
    if (op.return === Number.POSITIVE_INFINITY) {
      return { verdict: "ok", longest: stack.map((s) => s.entry.op), explored: cache.size };
    }
    const top = stack.pop();
    if (top === undefined) return { verdict: "illegal", longest, explored: cache.size };
    state = top.state;
    linearized.clear(top.entry.op);
    unlift(top.entry);
    entry = top.entry.next;
  }
  return { verdict: "ok", longest: stack.map((s) => s.entry.op), explored: cache.size };
}

function buildEntries<I, O>(operations: readonly Operation<I, O>[]): Entry {
  interface Event {
    time: number;
    entry: Entry;
  }
  const events: Event[] = [];
  operations.forEach((op, index) => {
    assert(op.return >= op.call, `operation ${index} returns (${op.return}) before its call (${op.call})`);
    const call: Entry = { op: index, isCall: true, match: undefined, prev: undefined, next: undefined };
    const ret: Entry = { op: index, isCall: false, match: undefined, prev: undefined, next: undefined };
    call.match = ret;
    events.push({ time: op.call, entry: call }, { time: op.return, entry: ret });
  });
  // Calls before returns at equal times: touching intervals count as concurrent (the lenient reading).
  events.sort((a, b) => a.time - b.time || Number(b.entry.isCall) - Number(a.entry.isCall) || 0);
  const head: Entry = { op: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const { entry } of events) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

function lift(call: Entry): void {
  const ret = call.match;
  assert(ret !== undefined && call.prev !== undefined, "lift of an unlinked entry");
  call.prev.next = call.next;
  if (call.next !== undefined) call.next.prev = call.prev;
  assert(ret.prev !== undefined, "return entry without prev");
  ret.prev.next = ret.next;
  if (ret.next !== undefined) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match;
  assert(ret !== undefined && ret.prev !== undefined && call.prev !== undefined, "unlift of a bad entry");
  ret.prev.next = ret;
  if (ret.next !== undefined) ret.next.prev = ret;
  call.prev.next = call;
  if (call.next !== undefined) call.next.prev = call;
}
