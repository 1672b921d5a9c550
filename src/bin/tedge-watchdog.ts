#!/usr/bin/env node
import { main } from '../runtime/watchdog-main';

export { main };

// Guarded so that the multi-call `tedge` binary can import this module without starting a watchdog.
if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
