/**
 * thin-edge.io 2.x keys of features tedge-ts does not have. They are not in the key table (so not in
 * `tedge config list --doc`), but a file or a command naming one is told which feature is missing,
 * rather than that the key does not exist: a migrated tedge.toml may well hold them.
 */
const NOT_IMPLEMENTED: ReadonlyArray<readonly [RegExp, string]> = [
  [/^((c8y|az|aws)(\.profiles\.[^.]+)?\.)?device\.(key_uri|key_pin)$/, 'private keys in an HSM (PKCS#11)'],
  [/^device\.cryptoki\./, 'private keys in an HSM (PKCS#11)'],
  [/^c8y(\.profiles\.[^.]+)?\.smartrest1?\.templates$/, 'custom SmartREST templates'],
  [/^c8y(\.profiles\.[^.]+)?\.bridge\.include\.local_cleansession$/, "the mosquitto bridge's local_cleansession setting (tedge-ts writes false)"],
  [/^c8y(\.profiles\.[^.]+)?\.mqtt_service\./, 'the Cumulocity MQTT service connection'],
  [/^run\.(lock_files|log_memory_interval)$/, 'lock files and memory logging of the daemons'],
  [/^firmware\.child\.update\.timeout$/, 'child-device firmware updates (c8y-firmware-plugin)'],
];

/** The missing feature a thin-edge key configures, or undefined for a key thin-edge does not have either. */
export function thinEdgeOnlyFeature(key: string): string | undefined {
  return NOT_IMPLEMENTED.find(([pattern]) => pattern.test(key))?.[1];
}
