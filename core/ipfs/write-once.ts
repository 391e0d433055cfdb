/**
 * Concurrent writes of one key become one write: content-addressed entries written twice at once would race on
 * their temp files (blockstore-fs and datastore-fs write each entry through one fixed temp file, `.<name>.tmp` via
 * steno, and rename it into place: the loser retries its rename for ~1 s, and the winner can publish a file the other
 * is still rewriting), and writing the same bytes twice is pointless anyway. With `exists`, a key found present
 * is not written at all.
 */
export function writeOnce(exists?: (key: string) => Promise<boolean>) {
  const inFlight = new Map<string, Promise<void>>();

  return (key: string, write: () => Promise<unknown>): Promise<void> => {
    const pending = inFlight.get(key);
    if (pending) return pending;

    const done = (async () => {
      if (!exists || !(await exists(key))) await write();
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, done);
    return done;
  };
}
