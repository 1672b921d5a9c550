#!/usr/bin/env node
import { main } from '../agent/main';

export { main };

// Guarded so that the multi-call `tedge` binary can import this module without starting an agent.
if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    // A daemon that has returned is done: a socket it could not close in time must not keep the process alive.
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
