/**
 * Latency histogram bounds in microseconds, computed exactly as the Go vpnham does:
 * `base = max^(1/(count−1))`, bound i = `round(2·base^i)/2` for i = 0..count−1.
 * Unlike Go (which fails to start on duplicate bounds) duplicates after rounding
 * are dropped and nonsense input yields a short list, never an exception.
 */
export function latencyBuckets(count: number, maxUs: number): number[] {
  if (!Number.isFinite(count) || !Number.isFinite(maxUs) || count < 1) return [];
  const n = Math.floor(count);
  // Same formulation as Go (exp/log, then pow) so the rounding lands on the same half-steps.
  const base = n > 1 && maxUs > 0 ? Math.exp(Math.log(maxUs) / (n - 1)) : 1;
  const bounds: number[] = [];
  for (let i = 0; i < n; i++) {
    const bound = Math.round(2 * Math.pow(base, i)) / 2;
    const last = bounds[bounds.length - 1];
    // Strictly increasing is what Prometheus needs; anything else is a duplicate or noise.
    if (Number.isFinite(bound) && (last === undefined || bound > last)) bounds.push(bound);
  }
  return bounds;
}
