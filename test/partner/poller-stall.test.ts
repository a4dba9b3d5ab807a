/**
 * Our own stall is not the partner's failure (issue 10 item 7): when the poll's timeout timer
 * fires late because this process was blocked, the answer may be sitting unread in the socket;
 * the poller gives it one more timeout instead of reporting the partner as timed out.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createPartnerPoller } from "../../src/partner/poller.ts";
import { isDeno, repoRoot } from "../robustness/child.ts";
import { statusJson } from "./support.ts";

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* the process is "stalled": a GC pause, a CPU hog, a stopped VM */
  }
}

test("a poll whose timer fires late after our stall still reads the answer that came meanwhile", async () => {
  const script = join(repoRoot, "test", "partner", "fixtures", "partner-process.mjs");
  const body = statusJson({ name: "stall", role: "standby" });
  const child = spawn(process.execPath, isDeno ? ["run", "-A", script, body] : [script, body], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      child.once("exit", () => reject(new Error("partner process exited")));
    });
    const poller = createPartnerPoller({ url: `http://127.0.0.1:${port}/`, timeoutMs: 100, expectedName: "stall", ownRole: "active" });
    try {
      assert.equal((await poller.poll()).ok, true, "a first poll opens the connection");
      for (let i = 0; i < 3; i++) {
        const pending = poller.poll();
        // We stall past the timeout right away; the request goes out and the answer comes
        // back as soon as the loop turns, but the timeout timer is due by then too.
        busyWait(300);
        const outcome = await pending;
        assert.equal(outcome.ok, true, `poll ${i}: ${outcome.ok ? "" : outcome.reason}`);
      }
    } finally {
      poller.close();
    }
  } finally {
    child.kill("SIGKILL");
  }
});
