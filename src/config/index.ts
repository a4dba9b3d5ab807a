export { loadConfig, parseConfig, parseConfigWith, resolveConfigPath, type LoadResult, type ParseOptions } from "./load.ts";
export { describeConfigSchema } from "./describe.ts";
export {
  hookNames,
  placeholderNames,
  placeholderPattern,
  scanPlaceholders,
  allowedPlaceholders,
  type HookName,
} from "./placeholders.ts";
export { parseDurationMs, formatDurationMs } from "./duration.ts";
export { parseHostPort, parseCidr, bindsConflict } from "./address.ts";
export { configModel } from "./model.ts";
export type { BridgeConfig, Config, HookConfig, HostPort, Reapply, Role, TunnelConfig } from "./model.ts";
export { rawConfigSchema, defaults, type RawConfig } from "./schema.ts";
