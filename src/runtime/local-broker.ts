import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttBusOptions } from '../bus/mqtt-bus';
import type { TedgeConfig } from '../config/tedge-config';
import { TedgeError, errorMessage } from '../core/errors';

/** How every daemon and CLI command reaches the local broker: address, TLS and credentials. */
export type LocalBrokerOptions = Pick<MqttBusOptions, 'host' | 'port' | 'tls' | 'username' | 'password'>;

function readKeyFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `${key} = ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Every regular file of the directory, concatenated: a PEM bundle Node's TLS takes as `ca`. */
function readCaDir(dir: string): Buffer {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new TedgeError('CONFIG_INVALID_VALUE', `mqtt.client.auth.ca_dir = ${dir}: ${errorMessage(err)}`, { cause: err });
  }
  const files = names.map((n) => join(dir, n)).filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true);
  return Buffer.concat(files.map((p) => Buffer.concat([readFileSync(p), Buffer.from('\n')])));
}

/**
 * The `mqtt.client.*` keys as MqttBus options, read the way thin-edge reads them: TLS when
 * `mqtt.client.auth.ca_file` or `ca_dir` is set (the broker is checked against them); a client
 * certificate when both `cert_file` and `key_file` are set; a password (the first line of
 * `password_file`) only with a `username`. A certificate without a CA is refused with one line, not
 * sent in clear to a broker that would never ask for it.
 */
export function localBrokerOptions(config: Pick<TedgeConfig, 'text' | 'string' | 'number'>): LocalBrokerOptions {
  const text = (key: Parameters<TedgeConfig['text']>[0]): string | undefined => {
    const v = config.text(key);
    return v === undefined || v === '' ? undefined : v;
  };
  const host = config.string('mqtt.client.host');
  const port = config.number('mqtt.client.port');
  const caFile = text('mqtt.client.auth.ca_file');
  const caDir = text('mqtt.client.auth.ca_dir');
  const certFile = text('mqtt.client.auth.cert_file');
  const keyFile = text('mqtt.client.auth.key_file');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new TedgeError('CONFIG_INVALID_VALUE', 'mqtt.client.auth.cert_file and mqtt.client.auth.key_file must be set together');
  }
  const options: { -readonly [K in keyof LocalBrokerOptions]: LocalBrokerOptions[K] } = { host, port };
  if (caFile !== undefined || caDir !== undefined) {
    const cas = [...(caFile !== undefined ? [readKeyFile('mqtt.client.auth.ca_file', caFile)] : []), ...(caDir !== undefined ? [readCaDir(caDir)] : [])];
    options.tls = {
      ca: Buffer.concat(cas),
      ...(certFile !== undefined && keyFile !== undefined ? { cert: readKeyFile('mqtt.client.auth.cert_file', certFile), key: readKeyFile('mqtt.client.auth.key_file', keyFile) } : {}),
    };
  } else if (certFile !== undefined) {
    throw new TedgeError('CONFIG_INVALID_VALUE', 'mqtt.client.auth.cert_file is set but neither mqtt.client.auth.ca_file nor ca_dir: the local broker is reached with TLS only when its CA is known');
  }
  const username = text('mqtt.client.auth.username');
  if (username !== undefined) {
    options.username = username;
    const passwordFile = text('mqtt.client.auth.password_file');
    if (passwordFile !== undefined) options.password = readKeyFile('mqtt.client.auth.password_file', passwordFile).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  return options;
}
