/**
 * Three agents on loopback against a real BIND (docs/dns-failover.md §Decision, §Peers); the
 * scenario is agents-suite.ts, shared with agents-knot.test.ts.
 */
import { agentsSuite } from "./agents-suite.ts";

agentsSuite("bind", 20);
