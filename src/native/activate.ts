import { nativeForProcess } from './binding';
import { installIntoMqttJs } from './mqtt-packet';

export interface NativeStatus {
  readonly active: boolean;
  /** Where the addon was loaded from, or why the TypeScript path runs instead. */
  readonly detail: string;
}

let installed = false;

/**
 * Loads the addon (once per process: it is dlopen'd once anyway) and, when it loads, routes every
 * MQTT.js client's frame parsing through it. Composition roots call this before connecting and log
 * the returned status once; `TEDGE_NATIVE=0` forces the TypeScript path.
 */
export function activateNativeHotPath(): NativeStatus {
  const load = nativeForProcess();
  if (load.binding === undefined) return { active: false, detail: load.reason ?? 'addon not loaded' };
  if (!installed) {
    installIntoMqttJs();
    installed = true;
  }
  return { active: true, detail: load.path ?? 'loaded' };
}
