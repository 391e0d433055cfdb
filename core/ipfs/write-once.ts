/**
 * blockstore-fs and datastore-fs write each entry through one fixed temp file (`.<name>.tmp`, via steno) and rename
 * it into place. Two concurrent writes of the same entry (repeated chunks, or the same content added twice at once)
 * share that temp file: the loser retries its rename for ~1 s, and the winner can publish a file the other is still
 * rewriting. Entries here are content-addressed, so writing one again is pointless: each key is written at most once.
 */
export function writeOnce(exists: (key: string) => Promise<boolean>) {
  const inFlight = new Map<string, Promise<void>>();

  return (key: string, write: () => Promise<unknown>): Promise<void> => {
    const pending = inFlight.get(key);
    if (pending) return pending;

    const done = (async () => {
      if (!(await exists(key))) await write();
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, done);
    return done;
  };
}
