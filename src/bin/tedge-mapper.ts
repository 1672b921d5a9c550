#!/usr/bin/env node
import { main } from '../mapper/main';

export { main };

if (require.main === module) {
  void main(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  });
}
