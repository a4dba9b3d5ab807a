/**
 * Three agents on loopback against a real Knot (docs/dns-failover.md §Decision, §Peers, §RFC 2136);
 * the scenario is agents-suite.ts, shared with agents.test.ts (BIND).
 */
import { agentsSuite } from "./agents-suite.ts";

agentsSuite("knot", 30);
