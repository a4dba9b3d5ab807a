/**
 * Garbage for scenario 10: datagrams of every wrong shape for the transponders
 * and junk HTTP for the status and metrics servers, sent by each host's agent
 * to its own host's sockets (addresses inside our namespaces only).
 */
import { randomBytes } from "node:crypto";
import type { World } from "./harness.ts";
import { HOST_IDS, TUNNEL_IP, VPC_IP } from "./netns.ts";

export function junkDatagrams(): Buffer[] {
  return [
    Buffer.alloc(0), // ends the Go transponder's receive loop for good
    Buffer.from([0x01]),
    randomBytes(141),
    randomBytes(143),
    randomBytes(1400),
    randomBytes(9000),
    randomBytes(142), // right size, random content: a bad time version byte
    Buffer.alloc(142), // right size, all zero
  ];
}

export function junkHttp(): Buffer[] {
  return [
    Buffer.from("\x00\x01\x02 garbage \xff\r\n\r\n", "latin1"),
    Buffer.from("GET /status HTTP/1.1\r\nHost: x\r\nX-Junk: " + "a".repeat(20_000) + "\r\n\r\n"),
    Buffer.from("POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
    Buffer.from("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    Buffer.from("GET /status HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
    randomBytes(512),
  ];
}

export interface JunkCounts {
  datagrams: number;
  httpRequests: number;
}

/**
 * Keeps sending rounds of junk at every socket of every host until stopped.
 * Returns what it sent when stopped.
 */
export function startJunk(w: World): { stop(): Promise<JunkCounts> } {
  let stopped = false;
  const counts: JunkCounts = { datagrams: 0, httpRequests: 0 };
  const loop = (async () => {
    while (!stopped) {
      await Promise.all(
        HOST_IDS.map(async (h) => {
          const agent = w.agent(h);
          for (const ip of Object.values(TUNNEL_IP[h])) {
            const r = await agent.udp(ip, 3003, junkDatagrams());
            counts.datagrams += r.sent ?? 0;
          }
          for (const port of [8080, 8000]) {
            await Promise.all(
              junkHttp().map(async (data) => {
                const r = await agent.tcp(VPC_IP[h], port, data, 500);
                if (r.ok) counts.httpRequests++;
              }),
            );
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return counts;
    },
  };
}
