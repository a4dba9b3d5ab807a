/**
 * Commands that jobs add to the control socket (docs/operations.md §Control socket): a job
 * registers its commands once, when the daemon sets it up; the daemon shell serves them next
 * to `status` and `reload` without knowing any job by name.
 */
export type ControlArgs = Readonly<Record<string, unknown>>;
/** Resolves with the answer's `result`; rejects with a message the client shows as the error. */
export type ControlHandler = (args: ControlArgs) => Promise<unknown>;

export interface ControlRegistry {
  /** Throws on a name taken or not a plain word (names are metric labels). */
  register(command: string, handler: ControlHandler): void;
  handlers(): ReadonlyMap<string, ControlHandler>;
}

export const controlCommandName = /^[a-z][a-z0-9_-]{0,31}$/;

export function createControlRegistry(reserved: readonly string[] = ["status", "reload"]): ControlRegistry {
  const handlers = new Map<string, ControlHandler>();
  return {
    register(command, handler) {
      if (!controlCommandName.test(command)) throw new Error(`control command ${JSON.stringify(command)} is not a plain lower-case word`);
      if (reserved.includes(command) || handlers.has(command)) throw new Error(`control command ${command} is registered twice`);
      handlers.set(command, handler);
    },
    handlers: () => handlers,
  };
}
