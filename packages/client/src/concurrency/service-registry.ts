/**
 * Service discovery: instances register `<prefix><service>/<instance id>` → endpoint under a session lease
 * (they vanish when the instance dies), and clients watch the set of endpoints of a service.
 */
import type { EtcdClient } from "../client.js";
import type { CallSettings } from "../connection.js";
import { TypedEmitter } from "../emitter.js";
import type { EtcdError } from "../errors.js";
import type { Watcher } from "../watch.js";
import type { Session } from "./session.js";

/** ServiceSetEvents are the events of a {@link ServiceWatch}. */
export interface ServiceSetEvents extends Record<string, unknown> {
  /** change: the full set of instances (id → endpoint) after each change, and once at the start. */
  change: ReadonlyMap<string, string>;
  /** error: the watch ended with an error. */
  error: EtcdError;
}

/** ServiceWatch follows one service's instances. */
export class ServiceWatch extends TypedEmitter<ServiceSetEvents> {
  /** instances is the current set (id → endpoint). */
  readonly instances = new Map<string, string>();
  /** ready resolves once the initial set is loaded. */
  readonly ready: Promise<void>;
  private watcher: Watcher | undefined;
  private closed = false;

  constructor(client: EtcdClient, prefix: string) {
    super();
    this.ready = this.start(client, prefix);
    this.ready.catch(() => {});
  }

  private async start(client: EtcdClient, prefix: string): Promise<void> {
    const initial = await client.get(prefix, { prefix: true });
    for (const kv of initial.kvs) this.instances.set(kv.keyString.slice(prefix.length), kv.valueString);
    if (this.closed) return;
    this.emit("change", new Map(this.instances));
    const watcher = client.watch(prefix, { prefix: true, startRevision: initial.header.revision + 1n });
    this.watcher = watcher;
    watcher.on("batch", (batch) => {
      for (const event of batch.events) {
        const id = event.kv.keyString.slice(prefix.length);
        if (event.type === "put") this.instances.set(id, event.kv.valueString);
        else this.instances.delete(id);
      }
      this.emit("change", new Map(this.instances));
    });
    watcher.on("error", (err) => this.emit("error", err));
    await watcher.ready;
  }

  /** close stops following the service. */
  async close(): Promise<void> {
    this.closed = true;
    await this.watcher?.cancel();
  }
}

/** ServiceRegistry registers instances and watches services under a prefix (default "services/"). */
export class ServiceRegistry {
  readonly client: EtcdClient;
  readonly prefix: string;

  constructor(client: EtcdClient, prefix = "services/") {
    this.client = client;
    this.prefix = prefix.endsWith("/") ? prefix : `${prefix}/`;
  }

  /** register announces an instance of `service` at `endpoint` for as long as `session` lives. */
  async register(
    session: Session,
    service: string,
    instanceId: string,
    endpoint: string,
    settings?: CallSettings,
  ): Promise<{ key: string; unregister: () => Promise<void> }> {
    const key = `${this.prefix}${service}/${instanceId}`;
    await this.client.put(key, endpoint, { ...settings, lease: session.leaseId });
    return {
      key,
      unregister: async () => {
        await this.client.delete(key);
      },
    };
  }

  /** list reads the current instances of `service` (id → endpoint). */
  async list(service: string, settings?: CallSettings): Promise<Map<string, string>> {
    const prefix = `${this.prefix}${service}/`;
    const result = await this.client.get(prefix, { ...settings, prefix: true });
    return new Map(result.kvs.map((kv) => [kv.keyString.slice(prefix.length), kv.valueString]));
  }

  /** watch follows the instances of `service` ("change" events carry the whole set). */
  watch(service: string): ServiceWatch {
    return new ServiceWatch(this.client, `${this.prefix}${service}/`);
  }
}
