/**
 * The Jupyter messaging protocol (v5) wire format: how one message becomes ZeroMQ frames and back, signed
 * with HMAC-SHA256 over header, parent header, metadata and content, as
 * https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol describes.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/** Separates the ZeroMQ routing identities from the message proper. */
export const DELIMITER = '<IDS|MSG>';

/** Version of the messaging protocol this client speaks. */
export const PROTOCOL_VERSION = '5.3';

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

/** One Jupyter message; content is left loosely typed because each msg_type has its own shape. */
export interface JupyterMessage {
  header: MessageHeader;
  /** Empty object when the message answers nothing. */
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

/** Builds a new message of msgType in session, optionally as a child of parent. */
export function createMessage(
  msgType: string,
  content: Record<string, unknown>,
  session: string,
  parent?: MessageHeader,
): JupyterMessage {
  return {
    header: {
      msg_id: randomUUID(),
      session,
      username: 'notebook-runner',
      date: new Date().toISOString(),
      msg_type: msgType,
      version: PROTOCOL_VERSION,
    },
    parent_header: parent ?? {},
    metadata: {},
    content,
  };
}

/** The hex HMAC-SHA256 signature of the four JSON frames; an empty key means unsigned, as Jupyter allows. */
export function signFrames(key: string, frames: readonly (string | Buffer)[]): string {
  if (key === '') return '';
  const hmac = createHmac('sha256', key);
  for (const frame of frames) hmac.update(frame);
  return hmac.digest('hex');
}

/** Serialises and signs msg into the frames a DEALER socket sends (no routing identity needed). */
export function encodeMessage(key: string, msg: JupyterMessage): string[] {
  const body = [
    JSON.stringify(msg.header),
    JSON.stringify(msg.parent_header),
    JSON.stringify(msg.metadata),
    JSON.stringify(msg.content),
  ];
  return [DELIMITER, signFrames(key, body), ...body];
}

/** Parses received frames into a message, refusing a missing delimiter, a bad signature or bad JSON. */
export function decodeMessage(key: string, frames: readonly Buffer[]): JupyterMessage {
  const at = frames.findIndex((f) => f.toString('utf8') === DELIMITER);
  if (at < 0) throw new Error('Jupyter message has no <IDS|MSG> delimiter');
  if (frames.length < at + 6) throw new Error(`Jupyter message has ${frames.length - at - 1} frames after the delimiter; expected at least 5`);
  const signature = frames[at + 1].toString('utf8');
  const body = frames.slice(at + 2, at + 6);
  const expected = signFrames(key, body);
  const ok = signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
  if (!ok) throw new Error('Jupyter message signature does not match the connection key');
  const parts = body.map((frame, i) => {
    try {
      return JSON.parse(frame.toString('utf8')) as unknown;
    } catch {
      throw new Error(`Jupyter message frame ${['header', 'parent_header', 'metadata', 'content'][i]} is not JSON`);
    }
  });
  const [header, parent, metadata, content] = parts as [MessageHeader, Partial<MessageHeader>, Record<string, unknown>, Record<string, unknown>];
  if (typeof header?.msg_type !== 'string' || typeof header.msg_id !== 'string') {
    throw new Error('Jupyter message header lacks msg_type or msg_id');
  }
  return { header, parent_header: parent ?? {}, metadata: metadata ?? {}, content: content ?? {} };
}
