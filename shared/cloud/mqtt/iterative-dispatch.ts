/**
 * Makes aedes' message emitter (mqemitter 6, the same code in 7.1) dispatch queued messages in a loop
 * instead of by recursion. aedes lets 100 messages be in flight; further ones wait in the emitter's queue.
 * When an in-flight message completes, mqemitter's `released()` calls `_do(next)` from inside the previous
 * message's completion, and a message that completes synchronously (nobody subscribed, as for most
 * $SYS and presence events) releases the next one one stack level deeper. A reconnect storm queues
 * thousands of connect/disconnect events behind deliveries stalled on congested sockets, and their release
 * overflowed the stack (`RangeError: Maximum call stack size exceeded`, upstream mcollina/mqemitter#204,
 * unfixed). Here a dispatch that starts while another is on the stack is appended to a FIFO and run by the
 * outermost one as soon as the current dispatch returns: same order, same tick, constant stack depth.
 */

/** The part of mqemitter this relies on: `_do(message, callback)` dispatches one message to its listeners. */
interface DispatchingEmitter {
  _do(message: unknown, callback: unknown): unknown;
}

/** Replace emitter._do by a loop-driven version; throws if the emitter has no `_do` (an aedes upgrade changed it). */
export function dispatchIteratively(emitter: unknown): void {
  const target = emitter as Partial<DispatchingEmitter> | undefined;
  if (!target || typeof target._do !== 'function') {
    throw new Error("aedes' message emitter has no _do(message, callback): the stack-overflow fix in iterative-dispatch.ts must be revisited for this aedes version");
  }
  const dispatch = target._do.bind(target);
  const messages: unknown[] = [];
  const callbacks: unknown[] = [];
  let head = 0;
  let dispatching = false;
  target._do = function dispatchInOrder(this: DispatchingEmitter, message: unknown, callback: unknown) {
    messages.push(message);
    callbacks.push(callback);
    if (dispatching) return this;
    dispatching = true;
    try {
      while (head < messages.length) {
        const next = head++;
        const m = messages[next];
        const cb = callbacks[next];
        messages[next] = callbacks[next] = undefined;
        dispatch(m, cb);
      }
    } finally {
      dispatching = false;
      // Anything left after a throwing listener is dispatched by the next call.
      if (head === messages.length) {
        messages.length = callbacks.length = 0;
        head = 0;
      }
    }
    return this;
  };
}
