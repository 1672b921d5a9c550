/**
 * SmartREST 2.0 static template lines: CSV where a field is quoted only when it must be
 * (comma, quote or line break), quotes doubled.
 */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function smartrestLine(code: number, ...fields: readonly string[]): string {
  return [String(code), ...fields.map(csvField)].join(',');
}
