const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Row ids are UUIDs; anything else names nothing, and must not reach PostgreSQL as a malformed literal. */
export function isId(value: string): boolean {
  return UUID.test(value);
}
