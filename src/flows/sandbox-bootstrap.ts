/**
 * The code that runs first in every script step's realm (a node:vm context with a null-prototype
 * global, so `this.constructor` is the realm's own Object, not the worker's). It builds thin-edge's
 * step globals (console, TextEncoder/TextDecoder, crypto) and the batch runner out of this realm's own
 * intrinsics, captured before any user code runs. The worker's bridge functions stay in closures: a step
 * never holds a worker object, only primitives and objects of its own realm (the classic escape through
 * `x.constructor.constructor('return process')` needs one worker object). Errors from the bridge are
 * replaced by this realm's errors for the same reason.
 *
 * The runner calls the step on each message of `ctl.batch` (set by the host, never visible to the step), stores the outputs or the failure of each
 * message as it goes (so after a timeout the host knows which message looped), and stops early after
 * `budgetMs` so that a long batch of fast messages is not taken for one slow call. Promises returned by
 * async steps settle before the host reads them: the realm runs with microtaskMode 'afterEvaluate', and
 * a step has no timers, so everything it awaits is a microtask.
 */
export const SANDBOX_BOOTSTRAP = String.raw`(function (bridge) {
  'use strict';
  const U8 = Uint8Array, D = Date, AB = ArrayBuffer, isView = ArrayBuffer.isView, S = String, isArray = Array.isArray, now = Date.now;
  const parse = JSON.parse, stringify = JSON.stringify, freeze = Object.freeze, define = Object.defineProperty;
  const push = Function.prototype.call.bind(Array.prototype.push), getTime = Function.prototype.call.bind(Date.prototype.getTime);
  const call = (f, ...args) => { try { return f(...args); } catch (e) { throw new Error('host call failed'); } };
  const text = (e) => { try { return e instanceof Error ? S(e.message) : S(e); } catch (_) { return 'an error that cannot be shown'; } };

  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(s = '') { return new U8(call(bridge.encode, S(s))); }
  }
  class TextDecoder {
    constructor(label = 'utf-8') {
      const l = S(label).toLowerCase();
      if (l !== 'utf-8' && l !== 'utf8') throw new RangeError('only utf-8 is supported');
    }
    get encoding() { return 'utf-8'; }
    decode(bytes) {
      if (bytes === undefined) return '';
      if (bytes instanceof ArrayBuffer) bytes = new U8(bytes);
      if (!isView(bytes)) throw new TypeError('TextDecoder.decode expects bytes');
      return call(bridge.decode, new U8(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
  }
  const crypto = freeze({
    randomUUID: () => S(call(bridge.uuid)),
    getRandomValues: (array) => {
      if (!isView(array)) throw new TypeError('getRandomValues expects an integer typed array');
      new U8(array.buffer, array.byteOffset, array.byteLength).set(new U8(call(bridge.random, array.byteLength)));
      return array;
    },
  });
  const show = (v) => { if (typeof v === 'string') return v; try { return stringify(v); } catch (_) { return S(v); } };
  const log = (...a) => call(bridge.log, a.map(show).join(' '));
  const console = freeze({ log, info: log, warn: log, error: log, debug: log });

  const store = (scope) => freeze({
    keys: () => parse(call(bridge.kv, scope, 'keys', '', null)),
    get: (key) => { const j = call(bridge.kv, scope, 'get', S(key), null); return j === undefined ? null : parse(j); },
    set: (key, value) => { call(bridge.kv, scope, 'set', S(key), value === null || value === undefined ? null : S(stringify(value))); },
    remove: (key) => { call(bridge.kv, scope, 'set', S(key), null); },
  });
  const context = { mapper: store('mapper'), flow: store('flow'), script: store('script'), config: parse(bridge.config) };

  const g = globalThis;
  for (const [name, value] of [['TextEncoder', TextEncoder], ['TextDecoder', TextDecoder], ['crypto', crypto], ['console', console]]) {
    define(g, name, { value, writable: true, configurable: true });
  }

  // One message returned by a step, as a record of plain fields the host reads without running step code.
  const tag = Function.prototype.call.bind(Object.getOwnPropertyDescriptor(Object.getPrototypeOf(U8.prototype), Symbol.toStringTag).get);
  const one = (m, time) => {
    if (m === null || typeof m !== 'object') throw new TypeError('a step returns null, a message {topic, payload} or an array of messages');
    const topic = m.topic;
    if (typeof topic !== 'string') throw new TypeError('a message topic must be a string');
    let payload = m.payload;
    if (typeof payload !== 'string') {
      // A copy: the step may reuse its buffer for the next message. The tag reads an internal slot, not a property of the step's.
      if (tag(payload) === 'Uint8Array') payload = new U8(payload);
      else if (isView(payload)) payload = new U8(payload.buffer, payload.byteOffset, payload.byteLength).slice();
      else if (payload instanceof AB) payload = new U8(payload.slice(0));
      else throw new TypeError('a message payload must be a string or a Uint8Array');
    }
    const t = m.time;
    const out = { topic, payload, time: t instanceof D ? getTime(t) : typeof t === 'number' ? t : time, qos: -1, retain: false };
    const mqtt = m.mqtt;
    if (mqtt !== null && typeof mqtt === 'object') {
      const q = mqtt.qos;
      if (q === 0 || q === 1 || q === 2) out.qos = q;
      out.retain = mqtt.retain === true;
    }
    return out;
  };
  // null (no message), one record, an array of records (several), a string (the error).
  const collect = (r, time) => {
    if (r === null || r === undefined) return null;
    if (!isArray(r)) return one(r, time);
    const into = [];
    for (let i = 0; i < r.length; i++) push(into, one(r[i], time));
    return into;
  };
  const PENDING = 0;

  const ctl = {
    module: null, kind: 'message', batch: null, time: 0, budgetMs: 0,
    /** results[i]: see collect; PENDING while the step's promise has not settled */
    results: null, next: 0,
    run() {
      if (ctl.results === null) ctl.results = [];
      const batch = ctl.batch, results = ctl.results, started = now();
      const message = ctl.kind === 'message';
      const fn = ctl.module[message ? 'onMessage' : ctl.kind === 'interval' ? 'onInterval' : 'onStartup'];
      const count = message ? batch.length : 1;
      while (ctl.next < count) {
        const i = ctl.next++;
        try {
          let r, time;
          if (message) {
            const h = batch[i];
            time = h.time;
            const msg = { topic: S(h.topic), payload: new U8(h.payload), time: new D(time) };
            if (h.qos !== undefined || h.retain !== undefined) msg.mqtt = { qos: h.qos, retain: h.retain === true };
            r = fn(msg, context);
          } else {
            time = ctl.time;
            r = typeof fn === 'function' ? fn(new D(time), context) : null;
          }
          if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
            results[i] = PENDING;
            r.then((v) => { try { results[i] = collect(v, time); } catch (e) { results[i] = text(e); } },
                   (e) => { results[i] = text(e); });
          } else results[i] = collect(r, time);
        } catch (e) {
          results[i] = text(e);
        }
        if (now() - started > ctl.budgetMs) break;
      }
    },
  };
  // Only the runner is global (the host's per-call script names it); its state stays in this closure.
  define(g, '__tedge_step', { value: () => ctl.run(), writable: false, configurable: false, enumerable: false });
  return ctl;
})`;
