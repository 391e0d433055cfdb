/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) of text values, to pass a whole column as one parameter and cast it
 * in SQL (`${pgArray(ids)}::uuid[]`), with `= any(…)` or `unnest(…)`. One parameter instead of one per value spares
 * the query builder and the server's parser a statement hundreds of parameters long; both drivers (PGlite,
 * node-postgres) send it as text, which the cast reads.
 */
export function pgArray(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? "NULL" : `"${v.replace(/[\\"]/g, "\\$&")}"`)).join(",")}}`;
}
