import pkg from "../package.json" with { type: "json" };

/** `build.ts` defines VPNHAM_BUILD_VERSION (version + commit); from source it is package.json's. */
declare const VPNHAM_BUILD_VERSION: string | undefined;

export const VERSION: string = typeof VPNHAM_BUILD_VERSION === "string" ? VPNHAM_BUILD_VERSION : pkg.version;
