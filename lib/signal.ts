// Qt-style signals as plain objects: `socket.readyRead.connect(fn)`.

/** Receives an exception thrown by a slot; see {@link setSlotErrorHandler}. */
export type SlotErrorHandler = (error: unknown) => void;

// A throwing slot must not leave a socket half-way through a state change, so
// emit() never throws. The exception is rethrown from a fresh loop callback
// instead, as an uncaughtException, the way an exception in a node:net 'data'
// handler surfaces. Not process.nextTick: a tick queued in a readiness
// callback runs inside the addon's callback scope, where a throw would come
// back to the addon instead of reaching process's handlers.
let slotErrorHandler: SlotErrorHandler = (error) => {
  setImmediate(() => {
    throw error;
  });
};

/**
 * Chooses what happens to an exception thrown by any slot. The default
 * rethrows it from the next turn of the event loop (an `uncaughtException`). The socket that
 * emitted the signal carries on in a consistent state either way.
 * Returns the previous handler.
 */
export function setSlotErrorHandler(handler: SlotErrorHandler): SlotErrorHandler {
  const previous = slotErrorHandler;
  slotErrorHandler = handler;
  return previous;
}

/** @internal Hands an exception to the current slot error handler. */
export function reportSlotError(error: unknown): void {
  slotErrorHandler(error);
}

/** Thrown (as a rejection) by {@link Signal.wait} when its time runs out. */
export class SignalTimeoutError extends Error {
  constructor(name: string, ms: number) {
    super(`signal ${name} was not emitted within ${ms} ms`);
    this.name = 'SignalTimeoutError';
  }
}

/**
 * A signal with typed arguments. Slots run synchronously, in the order they
 * were connected, when the owner emits.
 */
export class Signal<Args extends unknown[] = []> {
  #slots: Array<(...args: Args) => void> = [];
  readonly #name: string;

  constructor(name = 'signal') {
    this.#name = name;
  }

  /** Connects a slot; connecting the same function twice calls it twice, as in Qt. Returns the slot. */
  connect(slot: (...args: Args) => void): (...args: Args) => void {
    if (typeof slot !== 'function') throw new TypeError(`${this.#name}.connect: slot must be a function`);
    // Copy on write: a slot that connects or disconnects during an emit does
    // not change the list that emit is walking.
    this.#slots = [...this.#slots, slot];
    return slot;
  }

  /** Disconnects one slot (every connection of it), or all slots without an argument. Returns whether any was removed. */
  disconnect(slot?: (...args: Args) => void): boolean {
    const before = this.#slots.length;
    this.#slots = slot === undefined ? [] : this.#slots.filter((s) => s !== slot);
    return this.#slots.length !== before;
  }

  /** How many slots are connected. */
  receivers(): number {
    return this.#slots.length;
  }

  /**
   * Calls every slot with `args`. Never throws: a slot's exception goes to
   * the slot error handler and the remaining slots still run.
   */
  emit(...args: Args): void;
  // Up to two arguments are passed without a rest array or a spread call, so
  // that the emits of every read and write allocate nothing.
  emit(a?: unknown, b?: unknown, ...more: unknown[]): void {
    const slots = this.#slots as Array<(...args: unknown[]) => void>;
    if (slots.length === 0) return;
    const count = arguments.length;
    for (let i = 0; i < slots.length; i++) {
      try {
        if (count === 0) slots[i]();
        else if (count === 1) slots[i](a);
        else if (count === 2) slots[i](a, b);
        else slots[i](a, b, ...more);
      } catch (error) {
        slotErrorHandler(error);
      }
    }
  }

  /**
   * Resolves with the arguments of the next emission. Rejects with
   * {@link SignalTimeoutError} after `timeoutMs` (none when omitted or
   * negative) or with the abort reason when `abortSignal` fires.
   */
  wait(timeoutMs?: number, abortSignal?: AbortSignal): Promise<Args> {
    return new Promise<Args>((resolve, reject) => {
      if (abortSignal?.aborted) {
        reject(abortSignal.reason);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        this.disconnect(slot);
        if (timer !== undefined) clearTimeout(timer);
        abortSignal?.removeEventListener('abort', onAbort);
      };
      const slot = (...args: Args) => {
        cleanup();
        resolve(args);
      };
      const onAbort = () => {
        cleanup();
        reject(abortSignal!.reason);
      };
      this.connect(slot);
      if (timeoutMs !== undefined && timeoutMs >= 0) {
        timer = setTimeout(() => {
          cleanup();
          reject(new SignalTimeoutError(this.#name, timeoutMs));
        }, timeoutMs);
      }
      abortSignal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
