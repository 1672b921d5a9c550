// Stands in for modules MQTT.js requires when it loads but uses only for ws:// URLs (ws), SOCKS proxies
// (socks, with ip-address) and web workers (worker-timers, with @babel/runtime): tedge uses none of them, and
// loading them cost ~1.5 MiB of heap in every process. Any use throws, loudly.
'use strict';
function unused() {
  throw new Error('not bundled in the tedge single executable (ws://, SOCKS proxies and web workers are not supported)');
}
module.exports = { setInterval: unused, clearInterval: unused, setTimeout: unused, clearTimeout: unused, SocksClient: unused, WebSocket: unused, createWebSocketStream: unused };
