#!/usr/bin/env node
import { main } from '../mapper/main';

export { main };

if (require.main === module) {
  // A daemon that has returned is done: a socket it could not close in time must not keep the process alive.
  void main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
