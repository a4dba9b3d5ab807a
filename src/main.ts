#!/usr/bin/env bun
// Entry point: tiny on purpose. Subcommands load lazily so `--version` and
// `validate` don't pay for the daemon's imports.
import { defineCommand, runMain } from "citty";
import { VERSION } from "./version.ts";

const main = defineCommand({
  meta: { name: "vpnham", version: VERSION, description: "High-availability monitor for VPN tunnel pairs" },
  subCommands: {
    serve: () => import("./cli/serve.ts").then((m) => m.default),
    validate: () => import("./cli/validate.ts").then((m) => m.default),
    status: () => import("./cli/status.ts").then((m) => m.default),
    ctl: () => import("./cli/ctl.ts").then((m) => m.default),
    drain: () => import("./cli/drain.ts").then((m) => m.drainCommand),
    undrain: () => import("./cli/drain.ts").then((m) => m.undrainCommand),
    demo: () => import("./cli/demo.ts").then((m) => m.default),
    docs: () => import("./cli/docs.ts").then((m) => m.default),
  },
  default: "serve",
});

void runMain(main);
