/**
 * Which MQTT client ids the broker accepts, as AWS IoT Core limits them: at most 128 bytes of UTF-8, not
 * starting with `$` (reserved), and, per MQTT 3.1.1 §1.5.3, no U+0000, no control characters (U+0001–U+001F,
 * U+007F–U+009F) and no ill-formed UTF-8 (decoded as U+FFFD). A client id is substituted into policies as
 * `${iot:ClientId}`, so nothing in it may be mistaken for policy syntax or break a log line.
 */

/** AWS IoT Core's limit on the bytes of a client id. */
export const MAX_CLIENT_ID_BYTES = 128;

// C0 and C1 control characters, DEL, and the replacement character ill-formed UTF-8 decodes to.
const FORBIDDEN_CHARACTER = /[\u0000-\u001f\u007f-\u009f\ufffd]/u;

/** Why a client id is refused (CONNACK 2, identifier rejected), or undefined when it is acceptable. */
export function clientIdProblem(clientId: string): string | undefined {
  const bytes = Buffer.byteLength(clientId);
  if (bytes > MAX_CLIENT_ID_BYTES) return `client id of ${bytes} bytes is longer than ${MAX_CLIENT_ID_BYTES} bytes`;
  if (clientId.startsWith('$')) return 'client ids starting with $ are reserved';
  const bad = FORBIDDEN_CHARACTER.exec(clientId);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `client id holds U+${code} at character ${bad.index} (control characters and ill-formed UTF-8 are not allowed)`;
  }
  return undefined;
}

/** A client id made safe to print in a log line (control characters escaped, cut to 60 characters). */
export function printableClientId(clientId: string): string {
  const shown = JSON.stringify(clientId.slice(0, 60));
  return clientId.length > 60 ? `${shown}...` : shown;
}
