/**
 * JSON with object keys sorted at every depth, so the same value always serialises (and hashes) the same: the
 * audit chain's event hashes, personal-data digests and config digests. A module of its own, with no imports, so
 * the store's audit and personal-data modules and the services can share it without importing each other.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
