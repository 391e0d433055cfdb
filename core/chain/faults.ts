/**
 * Named points in the transaction path where the chaos tests kill the process, to prove that a crash at each
 * seam is recovered from stored state. Inert unless HALLMARK_FAULT names the point.
 */
export type FaultPoint = "after-nonce" | "after-sign" | "after-commit" | "after-broadcast" | "after-receipt";

const armed = process.env.HALLMARK_FAULT as FaultPoint | undefined;

export function faultPoint(point: FaultPoint): void {
  if (armed === point) {
    process.stderr.write(`fault injected: ${point}\n`);
    process.kill(process.pid, "SIGKILL");
  }
}
