import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * Channel/server options every flowgate gRPC endpoint uses: unlimited message sizes by default (as
 * the original), a keepalive ping every 10 s as the original, and large HTTP/2 windows so MB-sized
 * documents move at loopback speed. The ping's answer may take 20 s (the original: 5 s): its
 * C-core reads pings on a thread of their own, while here a process busy for a few seconds (a
 * 50 MB JSON body parsed by the Gateway, 400k documents decoded by an Executor) runs the ping's
 * timer before it reads the answer that has long arrived, and would drop a healthy connection.
 *
 * In a file of its own (re-exported by `rpc-server.ts`): a client of Executors (the HTTP and
 * WebSocket Gateways) imports it without the server's health, reflection and proto-loader modules.
 *
 * @example
 * ```ts
 * const client = new grpc.Client('127.0.0.1:50051', grpc.credentials.createInsecure(), defaultGrpcOptions());
 * ```
 */
export function defaultGrpcOptions(maxMessageBytes = -1): ChannelOptions {
  return {
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': 9999,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5000,
    'grpc-node.max_session_memory': 1 << 30,
    'grpc-node.flow_control_window': 64 * 1024 * 1024,
  };
}
