#!/usr/bin/env node
import { main } from '../sm-plugins/flow/main';

export { main };

// Guarded so that the multi-call `tedge` binary can import this module without running the plugin.
if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}
