import type { Command } from 'commander';
import { refreshBridges } from '../connect/refresh-bridges';
import { ServiceManager, loadSystemConfig } from '../connect/system-services';
import type { CommandContext } from './context';

/** `tedge refresh-bridges`: wiring only; the steps are in src/connect. */
export function registerRefreshBridgesCommand(program: Command, context: () => CommandContext): void {
  program
    .command('refresh-bridges')
    .description('rewrite the bridge configuration of every connected cloud and tedge-mosquitto.conf from the current configuration, then restart mosquitto (after an upgrade)')
    .action(async () => {
      const ctx = context();
      const config = ctx.config();
      await refreshBridges({ config, out: ctx.out, services: new ServiceManager(loadSystemConfig(config.configDir)) });
    });
}
