/**
 * A limit on MQTT packet size that applies before a packet is buffered. The MQTT parser (mqtt-packet, inside
 * aedes) collects a whole packet, up to the 256 MiB MQTT allows, before the broker sees it; this guard reads
 * each fixed header's "remaining length" as the bytes go to the parser and stops the connection as soon as
 * a declared length exceeds the limit, having held at most one socket read of the packet.
 */
import type { Readable } from 'node:stream';

/** What an oversized packet declared (Infinity for a remaining length longer than MQTT's four bytes). */
export interface OversizedPacket {
  declaredBytes: number;
  maxBytes: number;
}

/** Follows packet boundaries through a byte stream by their fixed headers, without keeping any bytes. */
export class MqttPacketScanner {
  private inLength = false;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;

  constructor(private readonly maxBytes: number) {}

  /** Scan the next bytes; returns the first packet whose remaining length exceeds the limit, if any. */
  scan(chunk: Uint8Array): OversizedPacket | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++];
      if (!this.inLength) {
        // The first byte (packet type and flags); the remaining length follows.
        this.inLength = true;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      // Later length bytes only add: a partial length over the limit is over it for good.
      if (this.length > this.maxBytes) return { declaredBytes: this.length, maxBytes: this.maxBytes };
      if (byte & 0x80) {
        if (this.lengthBytes >= 4) return { declaredBytes: Infinity, maxBytes: this.maxBytes };
        continue;
      }
      this.inLength = false;
      this.bodyLeft = this.length;
    }
    return undefined;
  }
}

/**
 * Check every chunk the broker reads from this socket (aedes reads with socket.read() on 'readable'); on
 * the first oversized packet, hand no more bytes to the parser and call onOversized (which closes the socket).
 */
export function guardPacketSize(socket: Readable, maxBytes: number, onOversized: (packet: OversizedPacket) => void): void {
  const scanner = new MqttPacketScanner(maxBytes);
  const read = socket.read.bind(socket);
  let refused = false;
  socket.read = (size?: number) => {
    if (refused) return null;
    const chunk: unknown = read(size);
    if (chunk instanceof Uint8Array) {
      const oversized = scanner.scan(chunk);
      if (oversized) {
        refused = true;
        onOversized(oversized);
        return null;
      }
    }
    return chunk;
  };
}
