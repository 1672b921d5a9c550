#!/usr/bin/env node
import { main } from '../sm-plugins/apt/main';

export { main };

// Guarded so that the multi-call `tedge` binary can import this module without running the plugin.
if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      // The protocol's "failure": anything else could read as usage (1) or retry (3).
      process.exitCode = 2;
    },
  );
}
