/**
 * The few messages a Flow exchanges with the processes it spawns over Node's IPC channel. The
 * parent sends one `start` message with the typed configuration (no topology squeezed into flags
 * or environment variables); the child answers `ready` with its bound ports, or `failed`.
 */

/** Parent -> child. */
export type ParentMessage<Config> = { type: 'start'; config: Config } | { type: 'stop' };

/** Child -> parent. */
export type ChildMessage =
  { type: 'ready'; ports: number[] } | { type: 'failed'; message: string; stack?: string };

/** True when this process was spawned with an IPC channel. */
export function hasParent(): boolean {
  return typeof process.send === 'function' && process.connected;
}

/** Waits for the parent's `start` message. */
export function receiveConfig<Config>(): Promise<Config> {
  return new Promise((resolve) => {
    const onMessage = (msg: ParentMessage<Config>) => {
      if (msg?.type === 'start') {
        process.off('message', onMessage);
        resolve(msg.config);
      }
    };
    process.on('message', onMessage);
  });
}

/** Tells the parent something; ignored when there is no parent. */
export function tellParent(msg: ChildMessage): void {
  if (hasParent()) process.send!(msg);
}

/**
 * Calls `onLost` when the parent goes away (its IPC channel closes, which happens even when it is
 * killed with SIGKILL) or asks to stop, so that no child outlives its Flow.
 */
export function watchParent(onLost: () => void): void {
  process.on('disconnect', onLost);
  process.on('message', (msg: ParentMessage<unknown>) => {
    if (msg?.type === 'stop') onLost();
  });
}
