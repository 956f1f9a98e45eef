/**
 * A small typed event emitter that works in Node and browsers alike (node:events is not available in a
 * browser bundle). Listeners run synchronously in registration order; a throwing listener does not stop the
 * others (its error is reported on the next tick so it is not lost).
 */

/** Listener is a function taking an event's payload. */
type Listener<T> = (payload: T) => void;

/** TypedEmitter emits named events whose payload types are given by `Events`. */
export class TypedEmitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Listener<never>[]>();

  /** on adds a listener; it returns `this` for chaining. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as Listener<never>);
    this.listeners.set(event, list);
    this.listenerAdded(event);
    return this;
  }

  /** once adds a listener that is removed after its first call. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const wrapper: Listener<Events[K]> = (payload) => {
      this.off(event, wrapper);
      listener(payload);
    };
    return this.on(event, wrapper);
  }

  /** off removes a listener. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.listeners.get(event);
    if (list !== undefined) {
      const i = list.indexOf(listener as Listener<never>);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  /** listenerCount is the number of listeners for `event`. */
  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** emit calls the listeners of `event`; it returns whether there were any. */
  protected emit<K extends keyof Events>(event: K, payload: Events[K]): boolean {
    const list = this.listeners.get(event);
    if (list === undefined || list.length === 0) return false;
    for (const listener of [...list]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    return true;
  }

  /** listenerAdded is a hook for subclasses. */
  protected listenerAdded(_event: keyof Events): void {}
}
