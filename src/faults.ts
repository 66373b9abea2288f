/**
 * Named crash points for the fault-injection tests (test/e2e/delivery-crash.test.ts, test/webhooks/e2e.test.ts): when MAILGATE_FAULT_POINT
 * names a point, the process kills itself with SIGKILL on reaching it, exactly as a power cut or OOM kill
 * would, so the tests can restart it and check that nothing was delivered twice. Inert otherwise.
 */
export type FaultPoint =
  | 'after_claim'
  | 'before_final_dot'
  | 'after_final_dot'
  | 'after_accept'
  | 'after_record'
  // A webhook receiver answered 2xx, and the process died before recording it (test/webhooks/e2e.test.ts, 'killed between
  // the receiver's 200 and recording it').
  | 'webhook_after_post';

export function faultPoint(name: FaultPoint): void {
  if (process.env.MAILGATE_FAULT_POINT === name) process.kill(process.pid, 'SIGKILL');
}
