/** A host's configured role in its pair; the role machine (roles.ts) owns the vocabulary. */
export const ROLES = ["active", "standby"] as const;
export type Role = (typeof ROLES)[number];
