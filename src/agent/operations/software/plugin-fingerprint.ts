import { statSync } from 'node:fs';
import { pluginFiles } from './plugins';

/** Names, sizes, modes and times of the plugin files: changes when a plugin is added, removed or replaced. */
export function pluginFingerprint(dir: string): string {
  return pluginFiles(dir)
    .map((p) => {
      try {
        const st = statSync(p.path);
        return `${p.type}:${st.size}:${st.mode}:${st.mtimeMs}`;
      } catch {
        return `${p.type}:gone`;
      }
    })
    .join('|');
}
