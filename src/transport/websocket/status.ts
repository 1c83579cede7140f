import { Code, FlowgateError } from '../../core/errors.js';
import { fitCloseReason, WsCloseCode } from './frames.js';

/**
 * The WebSocket mapping of errors, in one place: which failures close a stream with 1011 and with
 * what reason (the Gateway side), and the error a Client reads from a close code. A failure of one
 * request (bad frame, Executor error) is not here: it travels in-band, as the response's status.
 */

/** Failures of the Flow itself (not of a request), which close a WebSocket with 1011. */
export function isNetworkError(err: unknown): boolean {
  return (
    err instanceof FlowgateError && (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded)
  );
}

/**
 * The close reason for a network failure: the error's message when it fits in 123 UTF-8 bytes,
 * else the original's fallback sentence (naming the Executor and its address).
 */
export function networkCloseReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const details = err instanceof FlowgateError ? err.details : {};
  const executor = typeof details.executor === 'string' ? details.executor : undefined;
  const address = typeof details.address === 'string' ? details.address : 'an unknown address';
  const where = executor ? `deployment ${executor} at ${address}` : `deployment at ${address}`;
  const fallback =
    err instanceof FlowgateError && err.code === Code.DeadlineExceeded
      ? `Connection to ${where} timed out. You can adjust \`timeoutSend\` attribute.`
      : `Network error while connecting to ${where}. It may be down.`;
  return fitCloseReason(message, fallback);
}

/** The error for a socket the Gateway closed before every request was answered. */
export function closeError(code: number, reason: string, url: string, unanswered: number): FlowgateError {
  if (code === WsCloseCode.InternalError)
    return new FlowgateError(Code.Unavailable, reason || `the Gateway at ${url} closed the stream (1011)`);
  if (code === WsCloseCode.MessageTooBig)
    return new FlowgateError(
      Code.ResourceExhausted,
      reason
        ? `the Gateway at ${url} closed the stream with 1009: ${reason}`
        : `a message was larger than the Gateway at ${url} or this client accepts (maxMessageBytes): closed with 1009`,
    );
  return new FlowgateError(
    Code.Unavailable,
    `the Gateway at ${url} closed the stream (code ${code}${reason ? `: ${reason}` : ''}) with ${unanswered} request(s) unanswered`,
  );
}
