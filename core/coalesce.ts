/**
 * Turns a function of many inputs into a function of one: calls that arrive while a run is in flight wait and go
 * together in the next run. Under load, many concurrent callers (queue jobs) then cost one database round trip
 * between them instead of one each; when idle, a lone call waits only until the next turn of the event loop.
 * `run` answers each input in order; if it throws, every caller of that run gets the error.
 */
export function coalesce<I, O>(run: (inputs: I[]) => Promise<O[]>, opts: { maxBatch?: number; concurrency?: number } = {}): (input: I) => Promise<O> {
  const maxBatch = opts.maxBatch ?? 500;
  const concurrency = opts.concurrency ?? 1;
  const waiting: { input: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  let running = 0;
  let scheduled = false;

  const pump = () => {
    scheduled = false;
    while (running < concurrency && waiting.length) {
      const batch = waiting.splice(0, maxBatch);
      running++;
      run(batch.map((b) => b.input))
        .then(
          (outputs) => batch.forEach((b, i) => b.resolve(outputs[i]!)),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          running--;
          schedule();
        });
    }
  };
  const schedule = () => {
    if (scheduled || !waiting.length || running >= concurrency) return;
    scheduled = true;
    setImmediate(pump);
  };
  return (input) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject });
      schedule();
    });
}
