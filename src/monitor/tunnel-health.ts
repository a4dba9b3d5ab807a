/**
 * Health of one tunnel from its probes (docs/behaviour.md §Tunnel health), as a pure function
 * of (state, event). The shell records a probe as in flight *before* the
 * datagram leaves, so a fast reply can never be overwritten by the send.
 *
 * Invariant: sent = returned + failed + inFlight. A late reply (for a probe
 * already failed) stays counted as failed and never makes a tunnel up, but
 * it is a sign of life: like BFD, a tunnel goes down only when *nothing* came
 * back for its newest threshold_down probes. Otherwise a scheduling hiccup
 * longer than an interval (a loaded host, a GC pause, 10 ms probing) would
 * fail the probe in flight and the next one, and flap the tunnel.
 */

/** Slot states in the window ring. */
const EMPTY = 0;
const IN_FLIGHT = 1;
const RETURNED = 2;
const FAILED = 3;
/** Failed, but its reply came after all: counts as life for the down rule only. */
const LATE = 4;
/**
 * Sent before *we* stalled (our tick fired late): its reply may be waiting
 * in the socket, unread. It gets one more interval before it fails.
 */
const GRACE = 5;
/**
 * In flight, but sent by a late tick: it had less than an interval for its
 * reply, so at its deadline it gets GRACE instead of failing (issue: a probe
 * counts as lost only if we sent it on time and were running when its reply
 * was due; docs/hardening.md §Busy CPUs and late timers).
 */
const IN_FLIGHT_LATE = 6;

export type TunnelVerdict = "up" | "down";

export interface TunnelHealthState {
  readonly thresholdDown: number;
  readonly thresholdUp: number;
  /** Ring of the newest `window.length` probes, indexed by sequence % length. */
  readonly window: Uint8Array;
  /** Sequence of the newest probe recorded (0 before the first; first probe is 1). */
  readonly lastSequence: bigint;
  /** Down until the first verdict: nothing is active before we know. */
  readonly verdict: TunnelVerdict;
  /** Whether a verdict was ever reached (for status `up_since`). */
  readonly decided: boolean;
}

export type ReplyOutcome =
  | "returned" // in time: counts for verdicts
  | "late" // its probe had already failed
  | "duplicate" // already returned once
  | "stale" // older than the window (or a replay)
  | "future"; // never sent by us: bogus or wrapped

export interface HealthResult {
  readonly state: TunnelHealthState;
  /** Set when the verdict changed with this event. */
  readonly changed?: TunnelVerdict;
  /** Set on the first verdict ever (which may equal the initial "down"). */
  readonly firstVerdict?: TunnelVerdict;
  /** Probes that became failed with this event (for the failed counter). */
  readonly newlyFailed: number;
}

/** Window slack beyond the thresholds, so a reply a few intervals late is still "late", not "stale". */
export const WINDOW_SLACK = 64;

export function initialTunnelHealth(thresholdDown: number, thresholdUp: number): TunnelHealthState {
  const size = Math.max(thresholdDown, thresholdUp) + WINDOW_SLACK;
  return { thresholdDown, thresholdUp, window: new Uint8Array(size), lastSequence: 0n, verdict: "down", decided: false };
}

function slot(window: Uint8Array, sequence: bigint): number {
  return Number(sequence % BigInt(window.length));
}

/**
 * A new probe is about to be sent: the previous in-flight probe, if any, has
 * failed (its reply did not come back within one interval) — unless we were
 * not running when its reply was due (`stalled`: this tick is late) or it was
 * itself sent late; then it gets one more interval (GRACE). `stalled` also
 * marks the new probe as sent late. Returns the sequence number to put in the
 * datagram.
 */
export function beginProbe(state: TunnelHealthState, options: { stalled?: boolean } = {}): HealthResult & { sequence: bigint } {
  const window = state.window.slice();
  let newlyFailed = 0;
  const previous = state.lastSequence;
  // A probe given grace at the last tick has had its extra interval.
  if (previous > 1n && window[slot(window, previous - 1n)] === GRACE) {
    window[slot(window, previous - 1n)] = FAILED;
    newlyFailed++;
  }
  const previousSlot = previous > 0n ? window[slot(window, previous)] : EMPTY;
  if (previousSlot === IN_FLIGHT || previousSlot === IN_FLIGHT_LATE) {
    // After our own stall (SIGSTOP, VM pause, a blocked loop) the timer fires before the
    // socket is read: don't fail a probe whose reply may be sitting there; nor one that
    // left late and so had less than an interval.
    if (options.stalled || previousSlot === IN_FLIGHT_LATE) window[slot(window, previous)] = GRACE;
    else {
      window[slot(window, previous)] = FAILED;
      newlyFailed++;
    }
  }
  const sequence = previous + 1n;
  window[slot(window, sequence)] = options.stalled ? IN_FLIGHT_LATE : IN_FLIGHT;
  const next = { ...state, window, lastSequence: sequence };
  return { ...decide(next), newlyFailed, sequence };
}

/** The datagram could not be sent: the probe failed at once. */
export function probeSendFailed(state: TunnelHealthState, sequence: bigint): HealthResult {
  if (!inWindow(state, sequence) || !isInFlight(state.window[slot(state.window, sequence)]!)) {
    return { state, newlyFailed: 0 };
  }
  const window = state.window.slice();
  window[slot(window, sequence)] = FAILED;
  return { ...decide({ ...state, window }), newlyFailed: 1 };
}

function isInFlight(status: number): boolean {
  return status === IN_FLIGHT || status === IN_FLIGHT_LATE;
}

function inWindow(state: TunnelHealthState, sequence: bigint): boolean {
  return sequence >= 1n && sequence <= state.lastSequence && state.lastSequence - sequence < BigInt(state.window.length);
}

/** Classify a reply without changing anything (the shell uses it to pick counters). */
export function classifyReply(state: TunnelHealthState, sequence: bigint): ReplyOutcome {
  if (sequence > state.lastSequence || sequence < 1n) return "future";
  if (!inWindow(state, sequence)) return "stale";
  switch (state.window[slot(state.window, sequence)]) {
    case IN_FLIGHT:
    case IN_FLIGHT_LATE:
    case GRACE:
      return "returned";
    case FAILED:
      return "late";
    case RETURNED:
    case LATE:
      return "duplicate";
    default:
      return "stale";
  }
}

export function replyReceived(state: TunnelHealthState, sequence: bigint): HealthResult & { outcome: ReplyOutcome } {
  const outcome = classifyReply(state, sequence);
  if (outcome !== "returned" && outcome !== "late") return { state, newlyFailed: 0, outcome };
  const window = state.window.slice();
  window[slot(window, sequence)] = outcome === "returned" ? RETURNED : LATE;
  return { ...decide({ ...state, window }), newlyFailed: 0, outcome };
}

/** Statuses of the newest `count` probes, newest first (fewer when fewer were sent). */
function newest(state: TunnelHealthState, count: number): number[] {
  const out: number[] = [];
  for (let s = state.lastSequence; s >= 1n && out.length < count; s--) {
    out.push(state.window[slot(state.window, s)]!);
  }
  return out;
}

/**
 * Verdict rules: down when the newest thresholdDown probes all lack a reply,
 * even a late one (BFD-like; Go ignores late replies here); up when the
 * newest thresholdUp probes have replies in time, the newest in-flight one
 * counting as a reply (as in Go). Otherwise keep the verdict.
 */
function decide(state: TunnelHealthState): HealthResult {
  const downWindow = newest(state, state.thresholdDown);
  const isDown = downWindow.length === state.thresholdDown && downWindow.every((s) => isInFlight(s) || s === FAILED);
  const upWindow = newest(state, state.thresholdUp);
  const isUp =
    upWindow.length === state.thresholdUp &&
    upWindow.every((s, i) => s === RETURNED || (i === 0 && isInFlight(s)));
  // Both can hold only if thresholdUp windows overlap nothing returned, which the
  // rules exclude (isUp needs ≥ 1 returned since thresholdUp ≥ 2).
  const verdict: TunnelVerdict = isUp ? "up" : isDown ? "down" : state.verdict;
  // No reply in time for the newest thresholdDown probes (only late ones) is also a first
  // verdict, "down": else a tunnel whose replies are always late would stay undecided and
  // hold up the start-up wait for the configured tunnel for ever.
  const noTimelyReply = downWindow.length === state.thresholdDown && !downWindow.includes(RETURNED);
  const decided = state.decided || isUp || isDown || noTimelyReply;
  if (verdict === state.verdict && decided === state.decided) return { state, newlyFailed: 0 };
  const next = { ...state, verdict, decided };
  return {
    state: next,
    newlyFailed: 0,
    ...(verdict !== state.verdict ? { changed: verdict } : {}),
    ...(decided && !state.decided ? { firstVerdict: verdict } : {}),
  };
}

/** Counts over the window, for tests and status. */
export function windowCounts(state: TunnelHealthState): { inFlight: number; returned: number; failed: number } {
  let inFlight = 0;
  let returned = 0;
  let failed = 0;
  for (const s of state.window) {
    if (isInFlight(s) || s === GRACE) inFlight++;
    else if (s === RETURNED) returned++;
    else if (s === FAILED || s === LATE) failed++;
  }
  return { inFlight, returned, failed };
}

export const _slotStates = { EMPTY, IN_FLIGHT, RETURNED, FAILED, LATE, GRACE, IN_FLIGHT_LATE };

/**
 * What a collector says of the daemon state carrying a tunnel
 * (docs/collectors.md §IPsec-aware failover, §BGP-aware failover): the CHILD_SA installed or the BGP session Established, not, or
 * not known (no such tie, no such connection or peer, or the daemon cannot be read).
 */
export type TieInput = "up" | "down" | "unknown";

/** Whether any tie says down (the CHILD_SA not installed, or the BGP session not Established). Pure. */
export function externalDown(...ties: readonly TieInput[]): boolean {
  return ties.includes("down");
}

/**
 * The tunnel's verdict with its ties as one extra input: a tie that is down makes the tunnel down
 * at once, whatever its probes say (they would need threshold_down intervals to tell); up needs
 * the probes too. Unknown is not down, so a collector that cannot read its daemon never causes
 * a failover.
 */
export function verdictWithExternal(probes: TunnelVerdict, externalDown: boolean): TunnelVerdict {
  return externalDown ? "down" : probes;
}

/**
 * The verdict to report after an event, if any: the combined verdict when it differs from the one
 * reported last (none yet = undefined). Before the probes' first verdict only an external "down"
 * is a verdict (it needs no probes); "up" waits for the probes as before.
 */
export function verdictToReport(input: { probes: TunnelVerdict; probesDecided: boolean; externalDown: boolean; reported: TunnelVerdict | undefined }): TunnelVerdict | undefined {
  const combined = verdictWithExternal(input.probes, input.externalDown);
  const decided = input.probesDecided || input.externalDown;
  if (!decided || combined === input.reported) return undefined;
  return combined;
}
