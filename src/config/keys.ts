import type { ValueType } from './value-types';

/** The host of a cloud URL as users write it: `tenant.example.com`, `https://tenant.example.com/`, `host:1234`. */
export function urlHost(url: string): string {
  return url.replace(/^[a-z]+:\/\//, '').replace(/[:/].*$/, '');
}

/** What a default may depend on: the config directory and other keys' effective values. */
export interface DefaultContext {
  readonly configDir: string;
  get(key: string): string | undefined;
}

export interface KeyDefinition {
  readonly type: ValueType;
  /** The words an `enum` key accepts, checked at `tedge config set` as thin-edge does. */
  readonly values?: readonly string[];
  readonly doc: string;
  readonly default?: string | ((ctx: DefaultContext) => string | undefined);
  readonly example?: string;
}

const C8Y_TOPICS = 'te/+/+/+/+,te/+/+/+/+/twin/+,te/+/+/+/+/m/+,te/+/+/+/+/m/+/meta,te/+/+/+/+/e/+,te/+/+/+/+/a/+,te/+/+/+/+/status/health';
const TELEMETRY_TOPICS = 'te/+/+/+/+/m/+,te/+/+/+/+/e/+,te/+/+/+/+/a/+,te/+/+/+/+/status/health';

type CloudKey<P extends string> =
  | `${P}.url`
  | `${P}.mqtt`
  | `${P}.root_cert_path`
  | `${P}.topics`
  | `${P}.bridge.topic_prefix`
  | `${P}.bridge.keepalive_interval`
  | `${P}.device.id`
  | `${P}.device.cert_path`
  | `${P}.device.key_path`
  | `${P}.device.csr_path`
  | `${P}.mapper.mqtt.max_payload_size`;

function cloudKeys<P extends string>(cloud: P, maxPayload: number, topics: string): Record<CloudKey<P>, KeyDefinition> {
  const keys: Record<string, KeyDefinition> = {
    [`${cloud}.url`]: { type: 'url', doc: `Endpoint of the ${cloud} tenant or hub`, example: 'example.cumulocity.com' },
    [`${cloud}.mqtt`]: {
      type: 'host-port',
      doc: `MQTT endpoint (host:port) of ${cloud}; derived from ${cloud}.url`,
      default: (ctx: DefaultContext) => {
        const url = ctx.get(`${cloud}.url`);
        return url === undefined ? undefined : `${urlHost(url)}:8883`;
      },
    },
    [`${cloud}.root_cert_path`]: { type: 'path', doc: 'CA certificate file or directory used to check the cloud', default: '/etc/ssl/certs' },
    [`${cloud}.topics`]: { type: 'string-list', doc: 'Local topics the mapper subscribes to', default: topics },
    [`${cloud}.bridge.topic_prefix`]: { type: 'topic-prefix', doc: 'Local topic prefix of messages bridged to the cloud (each profile needs its own)', default: cloud },
    [`${cloud}.bridge.keepalive_interval`]: { type: 'duration', doc: `MQTT keep-alive of the bridge to ${cloud} (built-in and mosquitto)`, default: '60s' },
    // Per cloud (and per profile), so that two connections can use two identities; unset, device.* applies.
    [`${cloud}.device.id`]: { type: 'string', doc: `Device id used with ${cloud}; read-only once ${cloud}.device.cert_path exists (its CN); unset: device.id`, default: (c: DefaultContext) => c.get('device.id') },
    [`${cloud}.device.cert_path`]: { type: 'path', doc: `Device certificate used with ${cloud}; unset: device.cert_path`, default: (c: DefaultContext) => c.get('device.cert_path') },
    [`${cloud}.device.key_path`]: { type: 'path', doc: `Device private key used with ${cloud}; unset: device.key_path`, default: (c: DefaultContext) => c.get('device.key_path') },
    [`${cloud}.device.csr_path`]: { type: 'path', doc: `Certificate signing request for ${cloud}; unset: device.csr_path`, default: (c: DefaultContext) => c.get('device.csr_path') },
    [`${cloud}.mapper.mqtt.max_payload_size`]: { type: 'integer', doc: 'Largest payload sent to the cloud, in bytes', default: String(maxPayload) },
  };
  return keys as Record<CloudKey<P>, KeyDefinition>;
}

/**
 * The one table of configuration keys: names and defaults follow thin-edge.io (§3.3).
 * Validation, `tedge config list --doc`, env overrides (TEDGE_<KEY>) and defaults derive from it.
 * Every path a daemon writes is a key, so a test can put a whole device in a temp dir.
 */
const TABLE = {
  'device.id': { type: 'string', doc: 'Identifier of the device; read-only once a device certificate exists (its CN)' },
  'device.type': { type: 'string', doc: 'Type of the device in the cloud', default: 'thin-edge.io' },
  'device.cert_path': { type: 'path', doc: 'Device certificate (PEM)', default: (c) => `${c.configDir}/device-certs/tedge-certificate.pem` },
  'device.key_path': { type: 'path', doc: 'Device private key (PEM, mode 0600)', default: (c) => `${c.configDir}/device-certs/tedge-private-key.pem` },
  'device.csr_path': { type: 'path', doc: 'Certificate signing request', default: (c) => `${c.configDir}/device-certs/tedge.csr` },
  'certificate.validity.requested_duration': { type: 'duration', doc: 'Validity requested for new certificates', default: '365d' },
  'certificate.validity.minimum_duration': { type: 'duration', doc: 'Renew a certificate when it expires sooner than this', default: '30d' },
  'certificate.organization': { type: 'string', doc: 'Organization of self-signed certificates', default: 'Thin Edge' },
  'certificate.organization_unit': { type: 'string', doc: 'Organization unit of self-signed certificates', default: 'Device' },

  ...cloudKeys('c8y', 16184, C8Y_TOPICS),
  'c8y.http': {
    type: 'host-port',
    doc: 'HTTP endpoint (host:port) of Cumulocity; derived from c8y.url',
    default: (c: DefaultContext): string | undefined => {
      const url = c.get('c8y.url');
      return url === undefined ? undefined : `${urlHost(url)}:443`;
    },
  },
  'c8y.smartrest.use_operation_id': { type: 'boolean', doc: 'Report operation status by id (504-506) rather than by name (501-503)', default: 'true' },
  'c8y.smartrest.child_device.create_with_device_marker': { type: 'boolean', doc: 'Last field of the 101 child registration', default: 'false' },
  'c8y.entity_store.auto_register': { type: 'boolean', doc: 'Deprecated alias of agent.entity_store.auto_register', default: 'true' },
  'c8y.entity_store.clean_start': { type: 'boolean', doc: 'Rebuild the mapper entity cache from retained registrations', default: 'true' },
  'c8y.enable.log_upload': { type: 'boolean', doc: 'Map log_upload to c8y_LogfileRequest', default: 'true' },
  'c8y.enable.config_snapshot': { type: 'boolean', doc: 'Map config_snapshot to c8y_UploadConfigFile', default: 'true' },
  'c8y.enable.config_update': { type: 'boolean', doc: 'Map config_update to c8y_DownloadConfigFile', default: 'true' },
  'c8y.enable.firmware_update': { type: 'boolean', doc: 'Map firmware_update to c8y_Firmware', default: 'true' },
  'c8y.enable.device_profile': { type: 'boolean', doc: 'Map device_profile to c8y_DeviceProfile', default: 'true' },
  'c8y.enable.device_restart': { type: 'boolean', doc: 'Map restart to c8y_Restart', default: 'true' },
  'c8y.enable.software_update': { type: 'boolean', doc: 'Map software_update to c8y_SoftwareUpdate', default: 'true' },
  'c8y.software_management.with_types': { type: 'boolean', doc: 'Publish c8y_SupportedSoftwareTypes', default: 'false' },
  'c8y.software_management.api': { type: 'enum', values: ['legacy', 'advanced'], doc: 'Software list to Cumulocity: legacy (inventory c8y_SoftwareList) or advanced (SmartREST 140/141)', default: 'legacy' },
  'c8y.operations.auto_log_upload': { type: 'enum', values: ['never', 'always', 'on-failure'], doc: 'Upload the operation log of a finished operation: never, always or on-failure', default: 'on-failure' },
  'c8y.availability.enable': { type: 'boolean', doc: 'Send 117 (required interval) and heartbeats of devices whose health service is up', default: 'true' },
  'c8y.availability.interval': { type: 'duration', doc: 'Required availability interval sent as 117 in minutes; also the heartbeat period', default: '60m' },
  'c8y.proxy.bind.address': { type: 'ip-address', doc: 'Address of the local Cumulocity HTTP proxy', default: '127.0.0.1' },
  'c8y.proxy.bind.port': { type: 'port', doc: 'Port of the local Cumulocity HTTP proxy', default: '8001' },
  'c8y.proxy.client.host': { type: 'string', doc: 'Host clients use to reach the Cumulocity HTTP proxy', default: '127.0.0.1' },
  'c8y.proxy.client.port': { type: 'port', doc: 'Port clients use to reach the Cumulocity HTTP proxy', default: (c) => c.get('c8y.proxy.bind.port') },
  'c8y.proxy.cert_path': { type: 'path', doc: 'Server certificate (PEM) of the Cumulocity HTTP proxy; with c8y.proxy.key_path it serves HTTPS', example: '/etc/tedge/device-certs/c8y_proxy_certificate.pem' },
  'c8y.proxy.key_path': { type: 'path', doc: 'Private key (PEM) of c8y.proxy.cert_path', example: '/etc/tedge/device-certs/c8y_proxy_key.pem' },
  'c8y.proxy.ca_path': { type: 'path', doc: 'CA certificates (a PEM file or a directory) of the clients the HTTPS proxy requires a certificate from', example: '/etc/ssl/certs' },
  'c8y.auth_method': { type: 'enum', values: ['certificate', 'basic', 'auto'], doc: 'How the mapper authenticates over HTTP: certificate (JWT from s/uat), basic (c8y.credentials_path), or auto (basic when the credentials file exists)', default: 'certificate' },
  'c8y.credentials_path': { type: 'path', doc: 'Basic auth credentials of Cumulocity: a TOML file with [c8y] username and password', default: (c) => `${c.configDir}/credentials.toml` },
  'proxy.address': { type: 'string', doc: 'HTTP CONNECT proxy for HTTPS to the cloud (the mapper and tedge cert/upload commands): http://HOST[:PORT]', example: 'http://proxy.example.com:3128' },
  'proxy.username': { type: 'string', doc: 'User name for proxy.address (basic Proxy-Authorization)' },
  'proxy.password': { type: 'string', doc: 'Password for proxy.address' },
  'proxy.no_proxy': { type: 'string-list', doc: 'Hosts and domains reached without proxy.address (comma-separated; * for all)', example: 'localhost,.internal.example.com' },

  ...cloudKeys('az', 262144, TELEMETRY_TOPICS),
  'az.mapper.timestamp': { type: 'boolean', doc: 'Add a timestamp to messages sent to Azure', default: 'true' },
  'az.mapper.timestamp_format': { type: 'enum', values: ['unix', 'rfc-3339'], doc: 'unix or rfc-3339', default: 'unix' },
  ...cloudKeys('aws', 131072, TELEMETRY_TOPICS),
  'aws.mapper.timestamp': { type: 'boolean', doc: 'Add a timestamp to messages sent to AWS', default: 'true' },
  'aws.mapper.timestamp_format': { type: 'enum', values: ['unix', 'rfc-3339'], doc: 'unix or rfc-3339', default: 'unix' },

  'flows.stats.interval': { type: 'duration', doc: 'Interval between the flow statistics published by a mapper', default: '1h' },
  'flows.stats.on_message': { type: 'boolean', doc: 'Also publish the statistics of each step script\'s onMessage (<service>/status/metrics/<script>)', default: 'false' },
  'flows.stats.on_interval': { type: 'boolean', doc: 'Also publish the statistics of each step script\'s onInterval (<service>/status/metrics/<script>.onInterval)', default: 'false' },
  'flows.stats.on_startup': { type: 'boolean', doc: 'Also publish the statistics of each step script\'s onStartup (<service>/status/metrics/<script>.onStartup)', default: 'false' },
  'flows.params.keep_on_delete': { type: 'boolean', doc: 'The flow sm-plugin keeps a flow\'s params.toml when it removes the flow', default: 'false' },
  'flows.memory.heap_size': { type: 'integer', doc: 'JavaScript heap of one flow, in bytes (its worker is restarted when a step exhausts it)', default: '16777216' },
  'flows.memory.stack_size': { type: 'integer', doc: 'JavaScript stack of one flow, in bytes (at least 1 MiB: the thread of a flow needs it to start)', default: '1048576' },
  'flows.step_timeout': { type: 'duration', doc: 'CPU time one call of a flow step may take before it is cut', default: '1s' },

  'mqtt.topic_root': { type: 'string', doc: 'Root of the te/ topic tree', default: 'te' },
  'mqtt.device_topic_id': { type: 'topic-id', doc: 'Entity topic id of this device', default: 'device/main//' },
  'mqtt.bind.address': { type: 'ip-address', doc: 'Address the local broker listens on', default: '127.0.0.1' },
  'mqtt.bind.port': { type: 'port', doc: 'Port the local broker listens on', default: '1883' },
  'mqtt.client.host': { type: 'string', doc: 'Host of the local broker, as clients reach it', default: '127.0.0.1' },
  'mqtt.client.port': { type: 'port', doc: 'Port of the local broker, as clients reach it', default: (c) => c.get('mqtt.bind.port') },
  // The local broker as clients reach it (thin-edge's names): TLS when a CA is set, a client certificate, a user and password file.
  'mqtt.client.auth.ca_file': { type: 'path', doc: 'CA certificate (PEM) of the local broker: clients connect with TLS and check the broker against it', example: '/etc/mosquitto/ca_certificates/ca.crt' },
  'mqtt.client.auth.ca_dir': { type: 'path', doc: 'Directory of CA certificates (PEM files) of the local broker: clients connect with TLS', example: '/etc/mosquitto/ca_certificates' },
  'mqtt.client.auth.cert_file': { type: 'path', doc: 'Client certificate (PEM) presented to the local broker; with mqtt.client.auth.key_file and a CA', example: '/etc/mosquitto/auth_certificates/cert.pem' },
  'mqtt.client.auth.key_file': { type: 'path', doc: 'Private key (PEM) of mqtt.client.auth.cert_file', example: '/etc/mosquitto/auth_certificates/key.pem' },
  'mqtt.client.auth.username': { type: 'string', doc: 'User name given to the local broker', example: 'myuser' },
  'mqtt.client.auth.password_file': { type: 'path', doc: 'File holding the password given to the local broker with mqtt.client.auth.username (its first line)', example: '/etc/tedge/.client_password' },
  'mqtt.bind.enabled': { type: 'boolean', doc: 'tedge connect writes <config-dir>/mosquitto-conf/tedge-mosquitto.conf: the local listener (mqtt.bind.*) and the external one (mqtt.external.*)', default: 'true' },
  'mqtt.external.bind.port': { type: 'port', doc: 'Port of a second mosquitto listener, for other hosts (TLS with mqtt.external.cert_file and key_file)', example: '8883' },
  'mqtt.external.bind.address': { type: 'ip-address', doc: 'Address of the external listener', example: '0.0.0.0' },
  'mqtt.external.bind.interface': { type: 'string', doc: 'Network interface of the external listener', example: 'wlan0' },
  'mqtt.external.ca_path': { type: 'path', doc: 'CA certificates (directory) of the clients the external listener requires a certificate from', example: '/etc/ssl/certs' },
  'mqtt.external.cert_file': { type: 'path', doc: 'Server certificate of the external listener; with mqtt.external.key_file', example: '/etc/tedge/device-certs/tedge-certificate.pem' },
  'mqtt.external.key_file': { type: 'path', doc: 'Private key of mqtt.external.cert_file', example: '/etc/tedge/device-certs/tedge-private-key.pem' },
  'mqtt.bridge.built_in': { type: 'boolean', doc: 'Use the mapper built-in bridge instead of a mosquitto bridge', default: 'true' },
  'mqtt.bridge.reconnect_policy.initial_interval': { type: 'duration', doc: 'First reconnect delay of the built-in bridge', default: '5s' },
  'mqtt.bridge.reconnect_policy.maximum_interval': { type: 'duration', doc: 'Longest reconnect delay of the built-in bridge', default: '10m' },
  'mqtt.bridge.reconnect_policy.reset_window': { type: 'duration', doc: 'Connected this long, the delay starts over', default: '5m' },
  'mqtt.bridge.outbox.max_bytes': {
    type: 'integer',
    doc: 'Bound of the built-in bridge outbox (<data.path>/bridge/<prefix>/outbox): bytes of messages not yet acknowledged by the cloud. When full, the oldest are dropped (counted on status/metrics/outbox)',
    default: String(64 * 1024 * 1024),
  },
  'mqtt.bridge.outbox.fsync': {
    type: 'enum',
    values: ['always', 'never'],
    doc: 'always: fsync the outbox before the local broker gets its PUBACK (survives a power cut; group-committed). never: written, not synced (survives a crash, not a power cut)',
    default: 'always',
  },

  'http.bind.address': { type: 'ip-address', doc: 'Address of the agent HTTP service', default: '127.0.0.1' },
  'http.bind.port': { type: 'port', doc: 'Port of the agent HTTP service', default: '8000' },
  'http.client.host': { type: 'string', doc: 'Host clients use to reach the agent HTTP service', default: '127.0.0.1' },
  'http.client.port': { type: 'port', doc: 'Port clients use to reach the agent HTTP service', default: (c) => c.get('http.bind.port') },
  'http.cert_path': { type: 'path', doc: 'Server certificate (PEM) of the agent HTTP service; with http.key_path it serves HTTPS (plain HTTP requests are redirected)', example: '/etc/tedge/device-certs/file_transfer_certificate.pem' },
  'http.key_path': { type: 'path', doc: 'Private key (PEM) of the agent HTTP service certificate', example: '/etc/tedge/device-certs/file_transfer_key.pem' },
  'http.ca_path': { type: 'path', doc: 'CA certificates (a PEM file or a directory of them) trusted for client certificates; set, HTTPS clients must present one', example: '/etc/ssl/certs' },
  'http.client.auth.cert_file': { type: 'path', doc: 'Client certificate (PEM) the agent presents to an HTTPS file transfer service asking for one', example: '/etc/tedge/device-certs/local-tedge.crt' },
  'http.client.auth.key_file': { type: 'path', doc: 'Private key (PEM) of http.client.auth.cert_file', example: '/etc/tedge/device-certs/local-tedge.key' },
  'http.file_transfer.max_bytes': { type: 'integer', doc: 'Largest file the file transfer service accepts, in bytes (tedge-ts addition; thin-edge has no bound)', default: String(1024 * 1024 * 1024) },

  'agent.state.path': { type: 'path', doc: 'Agent state: entity store, in-flight operations', default: '/data/tedge/agent' },
  'agent.entity_store.auto_register': { type: 'boolean', doc: 'Register device/<d>/service/<s> entities from their first message', default: 'true' },
  'agent.entity_store.clean_start': { type: 'boolean', doc: 'Ignore the persisted entity store at start', default: 'false' },

  'software.plugin.default': { type: 'string', doc: 'Software type of modules without one (the only plugin when there is one)', example: 'apt' },
  'software.plugin.max_packages': { type: 'integer', doc: 'Most modules reported per software type (0: all)', default: '1000' },
  'software.plugin.include': { type: 'string', doc: 'Regex of module names listed even when excluded', example: '^(tedge|c8y).*' },
  'software.plugin.exclude': { type: 'string', doc: 'Regex of module names left out of software lists', example: '^(glibc|lib|kernel-|iptables-module).*' },
  'software.plugin.timeout': { type: 'duration', doc: 'A software plugin call running longer is killed and fails (thin-edge: 5 minutes)', default: '5m' },
  'firmware.backend': { type: 'path', doc: 'Firmware backend executable (install FILE --name N --version V, booted-slot, mark-good, mark-bad); set, the agent serves firmware_update', example: '/usr/share/tedge/firmware/tedge-firmware-rauc' },
  'firmware.backend_timeout': { type: 'duration', doc: 'A firmware backend call running longer is killed and the update fails (not firmware.backend.timeout: in tedge.toml a key cannot be both a value and a table)', default: '30m' },
  'firmware.health_timeout': { type: 'duration', doc: 'After booting new firmware: how long the agent, the configured mappers and their bridges have to report up before it is rolled back', default: '300s' },
  'firmware.verify': { type: 'string', doc: 'Optional command (argv, split on spaces; or a JSON array) run after the health gate; a non-zero exit rolls the firmware back', example: '/usr/bin/check-firmware --strict' },
  'sudo.enable': { type: 'boolean', doc: 'Run plugins and privileged writes through sudo (run directly when sudo is absent)', default: 'true' },
  'apt.name': { type: 'string', doc: 'Regex: the apt plugin lists only packages with a matching name', example: 'tedge.*' },
  'apt.maintainer': { type: 'string', doc: 'Regex: the apt plugin lists only packages with a matching maintainer', example: 'thin-edge.io team.*' },
  'apt.dpkg.options.config': { type: 'enum', values: ['keepold', 'keepnew'], doc: 'keepold or keepnew: the configuration files kept when the apt plugin installs a package', default: 'keepold' },
  'run.path': { type: 'path', doc: 'Runtime files: locks, pid files', default: '/run' },
  'logs.path': { type: 'path', doc: 'Log files of operations', default: '/var/log/tedge' },
  'logs.format': { type: 'enum', values: ['text', 'json'], doc: 'Format of the daemons\' log lines on stderr: text (readable lines, what journald shows) or json (one JSON object per line); --log-format overrides it', default: 'text' },
  'logs.max_per_operation': { type: 'integer', doc: 'Command logs kept per operation (<logs.path>/agent/workflow-<op>-<id>.log); older ones are removed', default: '5' },
  'tmp.path': { type: 'path', doc: 'Temporary files', default: '/tmp' },
  'data.path': { type: 'path', doc: 'Data: file transfer, mapper state, outbox', default: '/var/tedge' },

  'configuration.plugin_paths': { type: 'string-list', doc: 'Directories of config plugins (list, get, prepare, set, verify, rollback); their types are advertised as <type>::<plugin>', default: '/usr/share/tedge/config-plugins' },
  'diag.plugin_paths': { type: 'string-list', doc: 'Directories of the diagnostic plugins tedge diag collect runs (<plugin> collect --output-dir <dir> --config-dir <config-dir>)', default: '/usr/share/tedge/diag-plugins' },
  'log.plugin_paths': { type: 'string-list', doc: 'Directories of log plugins (list, get <type> --since --until); their types are advertised as <type>::<plugin>', default: '/usr/share/tedge/log-plugins' },
  'agent.enable.config_snapshot': { type: 'boolean', doc: 'The agent serves config_snapshot commands', default: 'true' },
  'agent.enable.config_update': { type: 'boolean', doc: 'The agent serves config_update commands', default: 'true' },
  'agent.enable.log_upload': { type: 'boolean', doc: 'The agent serves log_upload commands', default: 'true' },

  'service.type': { type: 'string', doc: 'Type of services registered in the cloud', default: 'service' },
  'service.timestamp_format': { type: 'enum', values: ['unix', 'rfc-3339'], doc: 'Format of health timestamps: unix or rfc-3339', default: 'unix' },
} satisfies Record<string, KeyDefinition>;

export type ConfigKey = keyof typeof TABLE;

export const CONFIG_KEYS: Readonly<Record<ConfigKey, KeyDefinition>> = TABLE;

export function isConfigKey(key: string): key is ConfigKey {
  return Object.prototype.hasOwnProperty.call(TABLE, key);
}

/** TEDGE_C8Y_URL for c8y.url. */
export function envName(key: string): string {
  return `TEDGE_${key.toUpperCase().replace(/\./g, '_')}`;
}
