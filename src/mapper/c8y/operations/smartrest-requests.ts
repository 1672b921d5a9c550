import { ConversionError } from '../../../core/errors';
import type { JsonObject } from '../../../core/json';
import { InvalidOperationError } from './fields';

/** One SmartREST 2.0 line from `c8y/s/ds`, split as CSV: template id, target external id, the rest. */
export interface SmartrestRequest {
  readonly line: string;
  readonly template: string;
  readonly externalId: string;
  readonly fields: readonly string[];
}

/** CSV fields of one line: `"…"` quoted fields with `""` for a quote, as Cumulocity writes them. */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new ConversionError(`Invalid SmartREST line '${line}': unterminated quote`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      while (i < line.length && line[i] !== ',') i++;
    } else {
      const end = line.indexOf(',', i);
      field = end < 0 ? line.slice(i) : line.slice(i, end);
      i = end < 0 ? line.length : end;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/** The lines of a `c8y/s/ds` message (Cumulocity may send several at once). */
export function smartrestRequests(payload: string): SmartrestRequest[] {
  return payload
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [template = '', externalId = '', ...fields] = csvFields(line);
      return { line, template, externalId, fields };
    });
}

/** Static templates of the builtin operations (`c8y_api/src/smartrest/message_ids.rs`) and their JSON fragment. */
export const SMARTREST_FRAGMENTS: Readonly<Record<string, string>> = {
  '510': 'c8y_Restart',
  '515': 'c8y_Firmware',
  '522': 'c8y_LogfileRequest',
  '524': 'c8y_DownloadConfigFile',
  '526': 'c8y_UploadConfigFile',
  '528': 'c8y_SoftwareUpdate',
};

function field(r: SmartrestRequest, i: number, name: string): string {
  const v = r.fields[i];
  if (v === undefined) throw new InvalidOperationError(`Invalid SmartREST ${r.template}: "${name}" is missing`);
  return v;
}

/**
 * A builtin static template → the Cumulocity JSON operation it stands for, so both inputs take one path to
 * the thin-edge command: `522,<xid>,<type>,<from>,<to>,<search>,<lines>`, `524,<xid>,<url>,<type>`,
 * `526,<xid>,<type>`, `515,<xid>,<name>,<version>,<url>`, `528,<xid>(,<name>,<version>,<url>,<action>)+`.
 */
export function smartrestAsJson(r: SmartrestRequest): JsonObject | undefined {
  const fragment = SMARTREST_FRAGMENTS[r.template];
  if (fragment === undefined) return undefined;
  switch (r.template) {
    case '510':
      return { [fragment]: {} };
    case '515':
      return { [fragment]: { name: field(r, 0, 'name'), version: field(r, 1, 'version'), url: field(r, 2, 'url') } };
    case '522': {
      const lines = Number(field(r, 4, 'lines'));
      if (!Number.isInteger(lines) || lines < 0) throw new InvalidOperationError(`Invalid SmartREST 522: "lines" must be a whole number, found '${r.fields[4] ?? ''}'`);
      return { [fragment]: { logFile: field(r, 0, 'log type'), dateFrom: field(r, 1, 'dateFrom'), dateTo: field(r, 2, 'dateTo'), searchText: field(r, 3, 'searchText'), maximumLines: lines } };
    }
    case '524':
      return { [fragment]: { url: field(r, 0, 'url'), type: field(r, 1, 'type') } };
    case '526':
      return { [fragment]: { type: field(r, 0, 'type') } };
    case '528': {
      if (r.fields.length === 0 || r.fields.length % 4 !== 0) throw new InvalidOperationError(`Invalid SmartREST 528: expected name,version,url,action per module, found ${r.fields.length} fields`);
      const modules: JsonObject[] = [];
      for (let i = 0; i < r.fields.length; i += 4) {
        modules.push({ name: field(r, i, 'name'), version: field(r, i + 1, 'version'), url: field(r, i + 2, 'url'), action: field(r, i + 3, 'action') });
      }
      return { [fragment]: modules };
    }
    default:
      return undefined;
  }
}
