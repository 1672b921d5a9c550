#!/usr/bin/env node
import { main } from '../sm-plugins/apt/main';
import { runPluginProcess } from '../sm-plugins/plugin-cli';

export { main };

// Guarded so that the multi-call `tedge` binary can import this module without running the plugin.
if (require.main === module) runPluginProcess(main);
