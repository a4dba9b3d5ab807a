export {
  ZERO_TIME,
  formatGoTime,
  parseGoTime,
  parseStatusBody,
  formatStatusBody,
  type BridgeStatus,
  type TunnelStatus,
  type Role,
  type ParseStatusResult,
} from "./status-body.ts";
export { POLL_FAILURE_REASONS, pollOutcomeLabel, type PollOutcome, type PollFailureReason } from "./outcome.ts";
export { startStatusServer, type StatusServerOptions } from "./server.ts";
export { createPartnerPoller, statusUrl, type PartnerPoller, type PartnerPollerOptions } from "./poller.ts";
