/**
 * Integration-log outcomes that are drops by design, not failures: a message received twice (`duplicate`, a sender's
 * retry), a call about a suppressed person (`suppressed`, the suppression working) and a delivery metric
 * (`delivery_metric`, recorded only: Roster sends no messages). Every other outcome (rule C codes,
 * `person_not_found`, `no_identifier`, `invalid_*`, and any code added later) is a failure someone may need to fix,
 * which is what `roster log --errors` shows.
 */
export const intendedDrops: readonly string[] = ['duplicate', 'suppressed', 'delivery_metric'];

/** True when an integration-log outcome is a failure rather than a drop by design. */
export const isFailureOutcome = (outcome: string): boolean => !intendedDrops.includes(outcome);
