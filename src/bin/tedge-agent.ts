#!/usr/bin/env node
import { main } from '../agent/main';

export { main };

// Guarded so that the multi-call `tedge` binary can import this module without starting an agent.
if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
